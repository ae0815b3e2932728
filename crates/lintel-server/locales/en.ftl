# Lintel's words for people, in English: every page a member or guest sees, and the errors
# they show. Every message here is in sv.ftl and fr.ftl too; a test fails when one is missing.

tab-doors = My doors
tab-dashboard = Dashboard
tab-profile = Profile

doors-title = My doors
doors-unlocked = Unlocked.
doors-none = There is no door you can open right now. Your organizations' administrators grant access.
doors-whom-to-ask = Whom to ask: see your profile.
doors-my-guests = My guests
doors-unlock = Unlock
doors-app-pin = App PIN
doors-pins-title = My PIN codes
doors-pins-hint = For the keypads of these sites. Only you can see them.
doors-pins-show = Show my PIN codes

kind-door = door
kind-gate = gate
kind-locker = locker
kind-storage-unit = storage unit
kind-relay = relay

ask-an-administrator = an administrator
ask-either = { $first } or { $second }
ask-sender = { $name }, who sent you the link

deny-unknown-credential = This phone is not known here. Sign in again.
deny-credential-revoked = This phone can no longer open doors here. Ask { $ask } why.
deny-membership-suspended = Your membership here is suspended. Ask { $ask } to reinstate it.
deny-no-access = You have no access to this door. Ask { $ask } for access to it.
deny-not-yet-valid = Your access to this door has not started yet. Ask { $ask } if it should have.
deny-expired = Your access to this door has ended. Ask { $ask } to extend it.
deny-outside-schedule = Your access does not cover this time of day. Ask { $ask } if you need it now.
deny-auth-type-not-allowed = This door does not open with the app this way. Use your card or PIN, or ask { $ask }.
deny-pin-required = Enter your app PIN to unlock.
deny-outside-geofence = You need to be at the site: allow this page to use your location, and try again there.
deny-reader-required = This door opens only at its reader, with your card or PIN.
deny-door-offline = The door cannot be reached right now. Try again in a minute; if it lasts, tell { $ask }.
deny-too-many-attempts = Too many wrong codes were typed at this door. Use your phone or card, or wait a few minutes.
deny-rules-stale = The door has been cut off from Lintel for too long to trust its rules. Tell { $ask } so they can reconnect its controller.

guest-deny-no-access = This link does not open this door. Ask { $sender }, who sent it, for access.
guest-deny-outside-schedule = This door is not open to guests at this time. Ask { $sender }, who sent you the link, when to come.
guest-deny-auth-type-not-allowed = This door does not open with a link. Ask { $sender }, who sent it, to let you in.

link-title = Access link
link-hello = Hello { $name }. This link is from { $org }.
link-hello-doors = Hello { $name }. This link is from { $org } and opens these doors.
link-valid-from-until = Valid from { $from } until { $until }.
link-valid-from = Valid from { $from }.
link-valid-until = Valid until { $until }.
link-not-yet-valid = This link is not valid yet.
link-expired = This link has expired.
link-revoked = This link has been revoked.
link-no-door = This link opens no door at the moment.

## Signing in and registering

field-first-name = First name
field-last-name = Last name
field-email = Email
field-phone = Mobile phone
field-account-email = Your account's email
field-new-phone = New mobile phone
field-code = Code
field-device-name = Device name
field-choose-pin = Choose a PIN
field-browser-pin = Choose a PIN for this browser
field-pin = PIN
field-name = Name
field-language = Language
phone-hint = In international format, such as +46 70 123 45 67.
device-browser = Browser

register-title = Create your account
register-phone-hint = In international format, such as +46 70 123 45 67. Sign-in codes go to this number.
register-button = Create account
register-have-account = Already have an account?
signin-title = Sign in
signin-hint = No password: we email you a link, then text you a code.
signin-button = Email me a link
signin-new = New here?
signin-create = Create an account
signin-new-number = Your old number now belongs to someone else?
recover-title = Add your new number
recover-explain = When a carrier gives your old number to someone else and they prove it is theirs, your account loses it. Add your current number here: we email you a link, then text a code to the new number. Your other devices are signed out, and your organizations' administrators are told.
recover-has-number = Your account still has your number?
check-email-title = Check your email
check-email-sent = If { $email } can sign in, a link is on its way. Open it on this device within 15 minutes; it works once.
check-email-sent-provider = If your provider's email can sign in, a link is on its way. Open it on this device within 15 minutes; it works once.
check-email-nothing = Nothing arriving? Check the spam folder.
try-again = Try again
confirm-title = Confirm it is you
confirm-explain = Continue to get a code by text message on your phone.
continue = Continue
link-broken-title = This link does not work
get-new-link = Get a new link
code-title = Enter your code
code-sent = We texted a 6-digit code to { $phone }. It works for 10 minutes.
code-your-phone = your phone
code-device-title = Name this device
code-none-needed = Your provider has proven who you are, and your organization needs no text-message code.
pin-hint = A PIN of 4 to 8 digits protects unlocking on this device. Avoid 1234, 0000 and the like.
sign-in-failed-title = Sign-in did not work
start-again = Start again
other-ways-title = Or use another account
other-ways-sign-in = Sign in with { $provider }
other-ways-register = Register with { $provider }
other-ways-hint = The provider's email must be the one your organization knows you by. A code still goes to your phone.
passkey-title = Sign in with a passkey
passkey-hint = Your phone or computer checks it is you. The PIN protects unlocking in this browser.
passkey-use = Use a passkey
passkey-unsupported = This browser cannot use passkeys.
passkey-waiting = Waiting for your passkey…
passkey-not-used = No passkey was used:
failed-title = That did not work
go-back = Go back
provider-refused-title = Not signed in
provider-refused = { $provider } did not sign you in.
back-to-sign-in = Back to sign in
provider-back-title = Signing in
provider-back = Back from the provider.
finish-account-title = Finish creating your account
finish-account-explain = Your email { $email } is proven. Add your mobile phone: sign-in codes go to it.
finish-account-button = Text me a code

## Errors a person reads, by the API's error code; { $field } is the field's label

error-required = { $field } must be filled in.
error-too-short = { $field } is too short.
error-too-long = { $field } is too long.
error-control-characters = { $field } must not contain control characters.
error-invalid-email = { $field } must be an email address, such as ada@example.com.
error-invalid-phone = { $field } must be a phone number in international format, such as +46 70 123 45 67.
error-invalid-name = { $field } may hold letters, spaces, hyphens, apostrophes and periods only.
error-invalid-pin = { $field } must be 4 to 8 digits.
error-trivial-pin = { $field } is too easy to guess. Avoid repeated digits, runs such as 1234 and repeated blocks such as 1212.
error-invalid-code = The code is the 6 digits we sent by text message.
error-wrong-code = { $count ->
    [0] That is not the code we sent.
    [one] That is not the code we sent. You have one more try.
   *[other] That is not the code we sent. You have { $count } more tries.
}
error-sign-in-ended = This sign-in can no longer be finished. Start again from the sign-in page with your email.
error-too-many-requests = { $count ->
    [one] Too many tries. Try again in a minute.
   *[other] Too many tries. Try again in { $count } minutes.
}
error-internal = Something went wrong on our side. Try again in a moment.
error-account-locked = Too many wrong codes. Signing in is locked for a while; try again later.
error-account-exists = An account already has this phone number. If the number is yours now, add it to your account from the sign-in page ("Add your new number").
error-link-expired = This link has expired. Ask for a new one from the sign-in page.
error-link-used = This link has already been used. Ask for a new one from the sign-in page.
error-code-expired = The code has expired. Start again from the sign-in page.
error-provider-unavailable = The provider cannot be reached just now. Try again, or sign in with your email.
error-provider-answer-invalid = The provider's answer could not be checked. Start again.
error-provider-flow-ended = This sign-in with a provider has ended or was used already. Start again.
error-provider-flow-expired = This sign-in with a provider took too long. Start again.
error-registration-expired = Creating your account took too long. Start again.
error-passkeys-unavailable = Passkeys are not set up on this Lintel server.
error-passkey-refused = The passkey's answer could not be checked. Try again.
error-ceremony-ended = This passkey request has ended or was used already. Start again.
error-no-passkey = This account has no passkey.
error-device-unregistered = Too many wrong PINs: this device is signed out. Sign in again.

## Dates: { $day } is the day of the month, { $month } a month's name below

date = { $day } { $month } { $year }
date-time = { $date }, { $time }
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## My profile

save = Save
confirm = Confirm
cancel = Cancel
error-page-title = Something went wrong
me-your-name = Your name
me-language = Language
me-language-label = Show pages in
me-language-browser = Your browser's choice
me-language-hint = The administrators' dashboard is in English only so far.
me-contact = Contact
me-email-is = Email: { $email }
me-phone-is = Phone: { $phone }
me-no-phone = none
me-new-email = New email
me-app-pin = Your app PIN
me-change-email = Change email
me-change-phone = Change phone
me-devices = Your devices
me-devices-hint = Unregistering a device signs it out; your account and access stay.
me-device-app = app
me-device-browser = browser
me-this-browser = this browser
me-device-used = { $kind }, last used { $when } UTC
me-sign-out = Sign out
me-unregister = Unregister
me-delete-title = Delete your account
me-delete-explain = This cannot be undone: your account, your devices and what Lintel keeps about you are erased. A code goes to your phone first.
me-delete-button = Delete my account
me-code-sent = We sent a 6-digit code to { $to }. It works for 10 minutes.
me-code-sent-you = Enter the 6-digit code we sent you. It works for 10 minutes.
me-confirm-email = Confirm your new email
me-confirm-phone = Confirm your new phone
me-confirm-delete = Confirm deleting your account
me-email-changed-title = Email changed
me-email-changed = Your email is changed and every device was signed out. Sign in with the new address.
me-phone-changed-title = Phone changed
me-phone-changed = Your phone number is changed and every device was signed out. Sign in again.
me-deleted-title = Account deleted
me-deleted = Your account and what Lintel kept about you are deleted.
me-ways = Ways to sign in
me-providers = Providers
me-not-linked = not linked
me-link = Link
me-unlink = Unlink
me-passkeys = Passkeys
me-no-passkey = No passkey yet. A passkey signs you in with your phone's or computer's screen lock, without email or code.
me-passkey-added = added { $date }
me-passkey-used = added { $date }, last used { $when } UTC
me-passkey-remove = Remove
me-passkey-name = Name the new passkey
me-passkey-add = Add a passkey
me-orgs = Your organizations
me-orgs-none = None yet. An administrator can invite you.
me-status-invited = invited
me-status-active = active
me-status-suspended = suspended
me-to-ask = To ask for access: { $ask }
me-leave = Leave
me-leave-warning = Leave { $org }? You can no longer open its doors, and only a new invitation brings you back.
me-leaving-title = Leaving
me-back = Back to your profile

## Invitations

invitation-title = Invitation
invitation-ask-again = Ask the organization's administrator to send you a new invitation.
invitation-join = You are invited to join { $org }.
invitation-accept = Accept invitation
invitation-went-to = You are invited to join { $org }. The invitation went to { $address }.
invitation-how = Create your account or sign in with that address, and the invitation becomes yours by itself. With another address, sign in and open this link again to accept it.
error-link-not-found = This link does not work: it may have been revoked, or its address is cut short. Ask whoever sent it for a new one.
error-invitation-not-found = This invitation does not work: it may have been revoked or used already.
error-door-not-found = This door is not there any more.

## Emails and text messages (each paragraph a message; the code joins them)

mail-hello = Hello,
mail-hello-name = Hello { $name },
mail-signin-subject = Your Lintel sign-in link
mail-signin-open = Open this link to sign in to Lintel:
mail-register-open = Open this link to finish creating your Lintel account:
mail-signin-ignore = It works once, for 15 minutes. If you did not ask for it, ignore this email: nobody can sign in without also receiving the code sent to your phone.
mail-new-phone-subject = Add your new phone number to Lintel
mail-new-phone-open = Open this link to add the number ending in { $digits } to your Lintel account and sign in; a code will be texted to it:
mail-new-phone-ignore = It works once, for 15 minutes. If you did not ask for it, ignore this email and tell your administrator (your organizations' administrators are told when a number is added).
sms-sign-in-code = Your Lintel code is { $code }. It expires in 10 minutes. Never share it: Lintel will never ask for it.
mail-code-subject = Your Lintel code
code-change-email = Your Lintel code to confirm your new email address is { $code }. It expires in 10 minutes. Never share it: Lintel will never ask for it.
code-change-phone = Your Lintel code to confirm your new phone number is { $code }. It expires in 10 minutes. Never share it: Lintel will never ask for it.
code-delete-account = Your Lintel code to delete your Lintel account is { $code }. It expires in 10 minutes. Never share it: Lintel will never ask for it.
code-reset-phone = Your Lintel code to take over this phone number for a new Lintel account is { $code }. It expires in 10 minutes. Never share it: Lintel will never ask for it.
mail-invitation-subject = You are invited to { $org } on Lintel
mail-invitation = You are invited to join { $org } on Lintel, which opens its doors.
mail-invitation-open = Open this link to accept; you will sign in or create your account with this email address:
mail-invitation-until = The link works until { $until }. If you did not expect this, ignore this email.
mail-invitation-until-used = The link works until it is used. If you did not expect this, ignore this email.
sms-invitation = You are invited to { $org } on Lintel. Accept: { $url } (works until { $until })
sms-invitation-until-used = You are invited to { $org } on Lintel. Accept: { $url } (works until it is used)
mail-link-subject = Your access link to { $org }
mail-link = { $org } has given you access, { $validity }. Open this link on your phone and press Unlock at the door:
mail-link-keep = Keep it to yourself: whoever has the link can open the doors.
sms-link = { $org }: your access link, { $validity }: { $url }
validity-always = from now on
validity-from = from { $from }
validity-until = until { $until }
validity-from-until = from { $from } until { $until }
mail-access-subject = You can now open doors at { $org }
mail-access = { $org } has given you access "{ $access }". It opens:
mail-access-open = Open them with the Lintel app.
mail-access-open-until = Open them with the Lintel app, until { $until }.
notice-subject = A change to your Lintel account
notice-no-phone = Someone, hopefully you, asked to sign in to Lintel with this email. Your account has no phone number any more: its new owner proved it was theirs (carriers give old numbers to new customers), so the sign-in code has nowhere to go.
notice-no-phone-recover = To add your current number and sign in, open { $url }
notice-no-phone-ignore = If you did not ask, ignore this email.
notice-phone-recovered = The phone number of { $name }, a member of { $org }, was taken over by its new owner (carriers give old numbers to new customers). They have now proven their email and a new number ending in { $digits }, and signed in again; their other devices were signed out.
notice-phone-recovered-suspend = If this was not them, suspend their membership in the dashboard: { $url }
notice-phone-taken = Someone proved by SMS that the phone number of your Lintel account is now theirs (carriers give old numbers to new customers), so it was removed from your account and your devices were signed out. To add your current number, open { $url }
notice-email-changed = The email of your Lintel account was changed from { $old } to { $new }. Every device was signed out; sign in again with the new address. If you did not do this, tell your organization's administrator at once.
notice-phone-changed = The phone number of your Lintel account was changed to another number, and every device was signed out. If you did not do this, tell your administrator at once.
notice-takeover-stopped = Someone tried many wrong codes to take over the phone number { $phone } of your Lintel account, and was stopped for a day. If that was not you, nothing has changed and you need do nothing; your number stays yours.
error-unchanged = { $field }: this is already yours.
error-wrong-pin = { $count ->
    [0] That PIN is wrong.
    [one] That PIN is wrong. One more wrong PIN signs this device out.
   *[other] That PIN is wrong. { $count } more wrong PINs sign this device out.
}
error-sms-country-not-allowed = Codes go by text message only to numbers of some countries, and this number is not from one of them. Ask the operator to add its country.
error-verification-ended = This code can no longer be used: it was used, or too many wrong ones were tried. Ask for a new one.
error-email-taken = Another account has this email.
error-last-owner = You are the last owner of an organization. Make someone else an owner first.
