# Lintel's words for people, in English: the member app's tabs, My doors and a guest's link
# page. Every message here is in sv.ftl and fr.ftl too; a test fails when one is missing.

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
