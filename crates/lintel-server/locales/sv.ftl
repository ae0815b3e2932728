# Lintels ord till människor, på svenska: varje sida en medlem eller gäst ser, och felen
# de visar. Samma meddelanden finns i en.ftl och fr.ftl; ett test fallerar om något saknas.

tab-doors = Mina dörrar
tab-dashboard = Administrera
tab-profile = Profil

doors-title = Mina dörrar
doors-unlocked = Upplåst.
doors-none = Det finns ingen dörr som du kan öppna just nu. Dina organisationers administratörer ger behörighet.
doors-whom-to-ask = Vem du ska fråga: se din profil.
doors-my-guests = Mina gäster
doors-unlock = Lås upp
doors-app-pin = App-PIN
doors-pins-title = Mina PIN-koder
doors-pins-hint = För knappsatserna på de här platserna. Bara du kan se dem.
doors-pins-show = Visa mina PIN-koder

kind-door = dörr
kind-gate = grind
kind-locker = skåp
kind-storage-unit = förråd
kind-relay = relä

ask-an-administrator = en administratör
ask-either = { $first } eller { $second }
ask-sender = { $name }, som skickade länken

deny-unknown-credential = Den här telefonen är inte känd här. Logga in igen.
deny-credential-revoked = Den här telefonen kan inte längre öppna dörrar här. Fråga { $ask } varför.
deny-membership-suspended = Ditt medlemskap här är avstängt. Be { $ask } att återaktivera det.
deny-no-access = Du har ingen behörighet till den här dörren. Be { $ask } om behörighet.
deny-not-yet-valid = Din behörighet till den här dörren har inte börjat än. Fråga { $ask } om den borde ha gjort det.
deny-expired = Din behörighet till den här dörren har upphört. Be { $ask } att förlänga den.
deny-outside-schedule = Din behörighet gäller inte den här tiden på dygnet. Fråga { $ask } om du behöver komma in nu.
deny-auth-type-not-allowed = Den här dörren öppnas inte med appen på det här sättet. Använd ditt kort eller din PIN-kod, eller fråga { $ask }.
deny-pin-required = Ange din app-PIN för att låsa upp.
deny-outside-geofence = Du behöver vara på platsen: låt sidan använda din position och försök igen där.
deny-reader-required = Den här dörren öppnas bara vid sin läsare, med ditt kort eller din PIN-kod.
deny-door-offline = Dörren går inte att nå just nu. Försök igen om en minut; om det fortsätter, säg till { $ask }.
deny-too-many-attempts = För många felaktiga koder har slagits vid den här dörren. Använd telefonen eller kortet, eller vänta några minuter.
deny-rules-stale = Dörren har varit bortkopplad från Lintel för länge för att dess regler ska gå att lita på. Säg till { $ask } så att dess styrenhet kopplas in igen.

guest-deny-no-access = Den här länken öppnar inte den här dörren. Be { $sender }, som skickade den, om behörighet.
guest-deny-outside-schedule = Den här dörren är inte öppen för gäster den här tiden. Fråga { $sender }, som skickade länken, när du kan komma.
guest-deny-auth-type-not-allowed = Den här dörren öppnas inte med en länk. Be { $sender }, som skickade den, att släppa in dig.

link-title = Åtkomstlänk
link-hello = Hej { $name }. Den här länken kommer från { $org }.
link-hello-doors = Hej { $name }. Den här länken kommer från { $org } och öppnar de här dörrarna.
link-valid-from-until = Giltig från { $from } till { $until }.
link-valid-from = Giltig från { $from }.
link-valid-until = Giltig till { $until }.
link-not-yet-valid = Den här länken gäller inte än.
link-expired = Den här länken har gått ut.
link-revoked = Den här länken har återkallats.
link-no-door = Den här länken öppnar ingen dörr just nu.

## Logga in och skapa konto

field-first-name = Förnamn
field-last-name = Efternamn
field-email = E-post
field-phone = Mobilnummer
field-account-email = Ditt kontos e-post
field-new-phone = Nytt mobilnummer
field-code = Kod
field-device-name = Enhetens namn
field-choose-pin = Välj en PIN-kod
field-browser-pin = Välj en PIN-kod för den här webbläsaren
field-pin = PIN-kod
field-name = Namn
field-language = Språk
phone-hint = I internationellt format, till exempel +46 70 123 45 67.
device-browser = Webbläsare

register-title = Skapa ditt konto
register-phone-hint = I internationellt format, till exempel +46 70 123 45 67. Inloggningskoder skickas till det här numret.
register-button = Skapa konto
register-have-account = Har du redan ett konto?
signin-title = Logga in
signin-hint = Inget lösenord: vi mejlar dig en länk och sms:ar sedan en kod.
signin-button = Mejla mig en länk
signin-new = Ny här?
signin-create = Skapa ett konto
signin-new-number = Tillhör ditt gamla nummer nu någon annan?
recover-title = Lägg till ditt nya nummer
recover-explain = När en operatör ger ditt gamla nummer till någon annan och den personen visar att numret är hens, förlorar ditt konto det. Lägg till ditt nuvarande nummer här: vi mejlar dig en länk och sms:ar sedan en kod till det nya numret. Dina andra enheter loggas ut och dina organisationers administratörer får veta det.
recover-has-number = Har ditt konto fortfarande ditt nummer?
check-email-title = Kolla din e-post
check-email-sent = Om { $email } kan logga in är en länk på väg. Öppna den på den här enheten inom 15 minuter; den fungerar en gång.
check-email-sent-provider = Om e-postadressen hos din leverantör kan logga in är en länk på väg. Öppna den på den här enheten inom 15 minuter; den fungerar en gång.
check-email-nothing = Kommer inget? Titta i skräpposten.
try-again = Försök igen
confirm-title = Bekräfta att det är du
confirm-explain = Fortsätt för att få en kod via sms till din telefon.
continue = Fortsätt
link-broken-title = Den här länken fungerar inte
get-new-link = Få en ny länk
code-title = Ange din kod
code-sent = Vi har sms:at en sexsiffrig kod till { $phone }. Den gäller i 10 minuter.
code-your-phone = din telefon
code-device-title = Namnge den här enheten
code-none-needed = Din leverantör har bekräftat vem du är, och din organisation kräver ingen sms-kod.
pin-hint = En PIN-kod på 4 till 8 siffror skyddar upplåsning på den här enheten. Undvik 1234, 0000 och liknande.
sign-in-failed-title = Inloggningen misslyckades
start-again = Börja om
other-ways-title = Eller använd ett annat konto
other-ways-sign-in = Logga in med { $provider }
other-ways-register = Skapa konto med { $provider }
other-ways-hint = Leverantörens e-postadress måste vara den som din organisation känner dig under. En kod skickas ändå till din telefon.
passkey-title = Logga in med en passkey
passkey-hint = Din telefon eller dator kontrollerar att det är du. PIN-koden skyddar upplåsning i den här webbläsaren.
passkey-use = Använd en passkey
passkey-unsupported = Den här webbläsaren kan inte använda passkeys.
passkey-waiting = Väntar på din passkey…
passkey-not-used = Ingen passkey användes:
failed-title = Det fungerade inte
go-back = Gå tillbaka
provider-refused-title = Inte inloggad
provider-refused = { $provider } loggade inte in dig.
back-to-sign-in = Tillbaka till inloggningen
provider-back-title = Loggar in
provider-back = Tillbaka från leverantören.
finish-account-title = Slutför ditt konto
finish-account-explain = Din e-postadress { $email } är bekräftad. Lägg till ditt mobilnummer: inloggningskoder skickas dit.
finish-account-button = Sms:a mig en kod

## Fel som en person läser, efter API:ets felkod; { $field } är fältets namn

error-required = { $field } måste fyllas i.
error-too-short = { $field } är för kort.
error-too-long = { $field } är för långt.
error-control-characters = { $field } får inte innehålla styrtecken.
error-invalid-email = { $field } måste vara en e-postadress, till exempel ada@example.com.
error-invalid-phone = { $field } måste vara ett telefonnummer i internationellt format, till exempel +46 70 123 45 67.
error-invalid-name = { $field } får bara innehålla bokstäver, mellanslag, bindestreck, apostrofer och punkter.
error-invalid-pin = { $field } måste vara 4 till 8 siffror.
error-trivial-pin = { $field } är för lätt att gissa. Undvik upprepade siffror, följder som 1234 och upprepade block som 1212.
error-invalid-code = Koden är de 6 siffror vi skickade via sms.
error-wrong-code = { $count ->
    [0] Det är inte koden vi skickade.
    [one] Det är inte koden vi skickade. Du har ett försök kvar.
   *[other] Det är inte koden vi skickade. Du har { $count } försök kvar.
}
error-sign-in-ended = Den här inloggningen kan inte längre slutföras. Börja om från inloggningssidan med din e-post.
error-too-many-requests = { $count ->
    [one] För många försök. Försök igen om en minut.
   *[other] För många försök. Försök igen om { $count } minuter.
}
error-internal = Något gick fel hos oss. Försök igen om en stund.
error-account-locked = För många felaktiga koder. Inloggningen är låst en stund; försök igen senare.
error-account-exists = Ett konto har redan det här telefonnumret. Om numret nu är ditt, lägg till det på ditt konto från inloggningssidan ("Lägg till ditt nya nummer").
error-link-expired = Den här länken har gått ut. Be om en ny från inloggningssidan.
error-link-used = Den här länken har redan använts. Be om en ny från inloggningssidan.
error-code-expired = Koden har gått ut. Börja om från inloggningssidan.
error-provider-unavailable = Leverantören går inte att nå just nu. Försök igen, eller logga in med din e-post.
error-provider-answer-invalid = Leverantörens svar kunde inte kontrolleras. Börja om.
error-provider-flow-ended = Den här inloggningen via leverantör har avslutats eller redan använts. Börja om.
error-provider-flow-expired = Inloggningen via leverantören tog för lång tid. Börja om.
error-registration-expired = Det tog för lång tid att skapa kontot. Börja om.
error-passkeys-unavailable = Passkeys är inte inställda på den här Lintel-servern.
error-passkey-refused = Passkeyns svar kunde inte kontrolleras. Försök igen.
error-ceremony-ended = Den här passkey-förfrågan har avslutats eller redan använts. Börja om.
error-no-passkey = Det här kontot har ingen passkey.
error-device-unregistered = För många felaktiga PIN-koder: den här enheten är utloggad. Logga in igen.

## Datum: { $day } är dagen i månaden, { $month } ett månadsnamn nedan

date = { $day } { $month } { $year }
date-time = { $date } { $time }
month-1 = jan.
month-2 = feb.
month-3 = mars
month-4 = apr.
month-5 = maj
month-6 = juni
month-7 = juli
month-8 = aug.
month-9 = sep.
month-10 = okt.
month-11 = nov.
month-12 = dec.

## Min profil

save = Spara
confirm = Bekräfta
cancel = Avbryt
error-page-title = Något gick fel
me-your-name = Ditt namn
me-language = Språk
me-language-label = Visa sidor på
me-language-browser = Webbläsarens val
me-language-hint = Administratörernas kontrollpanel finns än så länge bara på engelska.
me-contact = Kontakt
me-email-is = E-post: { $email }
me-phone-is = Telefon: { $phone }
me-no-phone = inget
me-new-email = Ny e-postadress
me-app-pin = Din app-PIN
me-change-email = Byt e-post
me-change-phone = Byt telefonnummer
me-devices = Dina enheter
me-devices-hint = Att avregistrera en enhet loggar ut den; ditt konto och din behörighet finns kvar.
me-device-app = app
me-device-browser = webbläsare
me-this-browser = den här webbläsaren
me-device-used = { $kind }, senast använd { $when } UTC
me-sign-out = Logga ut
me-unregister = Avregistrera
me-delete-title = Radera ditt konto
me-delete-explain = Det går inte att ångra: ditt konto, dina enheter och det Lintel sparar om dig raderas. Först skickas en kod till din telefon.
me-delete-button = Radera mitt konto
me-code-sent = Vi har skickat en sexsiffrig kod till { $to }. Den gäller i 10 minuter.
me-code-sent-you = Ange den sexsiffriga koden vi skickade till dig. Den gäller i 10 minuter.
me-confirm-email = Bekräfta din nya e-post
me-confirm-phone = Bekräfta ditt nya telefonnummer
me-confirm-delete = Bekräfta att ditt konto ska raderas
me-email-changed-title = E-posten är ändrad
me-email-changed = Din e-post är ändrad och alla enheter har loggats ut. Logga in med den nya adressen.
me-phone-changed-title = Telefonnumret är ändrat
me-phone-changed = Ditt telefonnummer är ändrat och alla enheter har loggats ut. Logga in igen.
me-deleted-title = Kontot är raderat
me-deleted = Ditt konto och det Lintel sparade om dig är raderat.
me-ways = Sätt att logga in
me-providers = Leverantörer
me-not-linked = inte kopplad
me-link = Koppla
me-unlink = Koppla bort
me-passkeys = Passkeys
me-no-passkey = Ingen passkey än. En passkey loggar in dig med skärmlåset på din telefon eller dator, utan e-post eller kod.
me-passkey-added = tillagd { $date }
me-passkey-used = tillagd { $date }, senast använd { $when } UTC
me-passkey-remove = Ta bort
me-passkey-name = Namnge den nya passkeyn
me-passkey-add = Lägg till en passkey
me-orgs = Dina organisationer
me-orgs-none = Inga än. En administratör kan bjuda in dig.
me-status-invited = inbjuden
me-status-active = aktiv
me-status-suspended = avstängd
me-to-ask = För att be om åtkomst: { $ask }
me-leave = Lämna
me-leave-warning = Lämna { $org }? Du kan inte längre öppna dess dörrar, och bara en ny inbjudan tar dig tillbaka.
me-leaving-title = Lämna organisationen
me-back = Tillbaka till din profil

## Inbjudningar

invitation-title = Inbjudan
invitation-ask-again = Be organisationens administratör att skicka en ny inbjudan.
invitation-join = Du är inbjuden att gå med i { $org }.
invitation-accept = Tacka ja till inbjudan
invitation-went-to = Du är inbjuden att gå med i { $org }. Inbjudan skickades till { $address }.
invitation-how = Skapa ditt konto eller logga in med den adressen, så blir inbjudan din av sig själv. Med en annan adress: logga in och öppna den här länken igen för att tacka ja.
error-link-not-found = Den här länken fungerar inte: den kan ha återkallats eller så är adressen avkortad. Be den som skickade den om en ny.
error-invitation-not-found = Den här inbjudan fungerar inte: den kan ha återkallats eller redan använts.
error-door-not-found = Den här dörren finns inte längre.

## E-post och sms (varje stycke ett meddelande; koden fogar ihop dem)

mail-hello = Hej,
mail-hello-name = Hej { $name },
mail-signin-subject = Din inloggningslänk till Lintel
mail-signin-open = Öppna den här länken för att logga in på Lintel:
mail-register-open = Öppna den här länken för att slutföra ditt Lintel-konto:
mail-signin-ignore = Den fungerar en gång, i 15 minuter. Om du inte bad om den kan du strunta i det här mejlet: ingen kan logga in utan att också få koden som skickas till din telefon.
mail-new-phone-subject = Lägg till ditt nya telefonnummer i Lintel
mail-new-phone-open = Öppna den här länken för att lägga till numret som slutar på { $digits } i ditt Lintel-konto och logga in; en kod skickas till det via sms:
mail-new-phone-ignore = Den fungerar en gång, i 15 minuter. Om du inte bad om den, strunta i det här mejlet och säg till din administratör (dina organisationers administratörer får veta när ett nummer läggs till).
sms-sign-in-code = Din Lintel-kod är { $code }. Den gäller i 10 minuter. Dela den aldrig: Lintel kommer aldrig att be om den.
mail-code-subject = Din Lintel-kod
code-change-email = Din Lintel-kod för att bekräfta din nya e-postadress är { $code }. Den gäller i 10 minuter. Dela den aldrig: Lintel kommer aldrig att be om den.
code-change-phone = Din Lintel-kod för att bekräfta ditt nya telefonnummer är { $code }. Den gäller i 10 minuter. Dela den aldrig: Lintel kommer aldrig att be om den.
code-delete-account = Din Lintel-kod för att radera ditt Lintel-konto är { $code }. Den gäller i 10 minuter. Dela den aldrig: Lintel kommer aldrig att be om den.
code-reset-phone = Din Lintel-kod för att ta över det här telefonnumret till ett nytt Lintel-konto är { $code }. Den gäller i 10 minuter. Dela den aldrig: Lintel kommer aldrig att be om den.
mail-invitation-subject = Du är inbjuden till { $org } i Lintel
mail-invitation = Du är inbjuden att gå med i { $org } i Lintel, som öppnar dess dörrar.
mail-invitation-open = Öppna den här länken för att tacka ja; du loggar in eller skapar ditt konto med den här e-postadressen:
mail-invitation-until = Länken fungerar till { $until }. Om du inte väntade dig det här kan du strunta i mejlet.
mail-invitation-until-used = Länken fungerar tills den används. Om du inte väntade dig det här kan du strunta i mejlet.
sms-invitation = Du är inbjuden till { $org } i Lintel. Tacka ja: { $url } (fungerar till { $until })
sms-invitation-until-used = Du är inbjuden till { $org } i Lintel. Tacka ja: { $url } (fungerar tills den används)
mail-link-subject = Din åtkomstlänk till { $org }
mail-link = { $org } har gett dig åtkomst, { $validity }. Öppna den här länken på din telefon och tryck på Lås upp vid dörren:
mail-link-keep = Behåll den för dig själv: den som har länken kan öppna dörrarna.
sms-link = { $org }: din åtkomstlänk, { $validity }: { $url }
validity-always = från och med nu
validity-from = från { $from }
validity-until = till { $until }
validity-from-until = från { $from } till { $until }
mail-access-subject = Nu kan du öppna dörrar hos { $org }
mail-access = { $org } har gett dig åtkomsten "{ $access }". Den öppnar:
mail-access-open = Öppna dem med Lintel-appen.
mail-access-open-until = Öppna dem med Lintel-appen, till { $until }.
notice-subject = En ändring av ditt Lintel-konto
notice-no-phone = Någon, förhoppningsvis du, bad om att logga in på Lintel med den här e-postadressen. Ditt konto har inget telefonnummer längre: numrets nya ägare visade att det var hens (operatörer ger gamla nummer till nya kunder), så inloggningskoden har ingenstans att ta vägen.
notice-no-phone-recover = Öppna { $url } för att lägga till ditt nuvarande nummer och logga in.
notice-no-phone-ignore = Om du inte bad om det kan du strunta i det här mejlet.
notice-phone-recovered = Telefonnumret till { $name }, medlem i { $org }, togs över av sin nya ägare (operatörer ger gamla nummer till nya kunder). Personen har nu bekräftat sin e-post och ett nytt nummer som slutar på { $digits } och loggat in igen; de andra enheterna loggades ut.
notice-phone-recovered-suspend = Om det inte var personen själv, stäng av medlemskapet i kontrollpanelen: { $url }
notice-phone-taken = Någon har visat via sms att telefonnumret till ditt Lintel-konto nu är deras (operatörer ger gamla nummer till nya kunder), så det togs bort från ditt konto och dina enheter loggades ut. Öppna { $url } för att lägga till ditt nuvarande nummer.
notice-email-changed = E-postadressen för ditt Lintel-konto ändrades från { $old } till { $new }. Alla enheter loggades ut; logga in igen med den nya adressen. Om det inte var du, säg genast till din organisations administratör.
notice-phone-changed = Telefonnumret för ditt Lintel-konto ändrades till ett annat nummer, och alla enheter loggades ut. Om det inte var du, säg genast till din administratör.
notice-takeover-stopped = Någon försökte med många felaktiga koder ta över telefonnumret { $phone } för ditt Lintel-konto och stoppades i ett dygn. Om det inte var du har inget ändrats och du behöver inte göra något; numret är fortfarande ditt.
error-unchanged = { $field }: det här är redan ditt.
error-wrong-pin = { $count ->
    [0] Fel PIN-kod.
    [one] Fel PIN-kod. En felaktig PIN-kod till loggar ut den här enheten.
   *[other] Fel PIN-kod. { $count } felaktiga PIN-koder till loggar ut den här enheten.
}
error-sms-country-not-allowed = Koder skickas via sms bara till nummer i vissa länder, och det här numret hör inte till något av dem. Be operatören lägga till landet.
error-verification-ended = Den här koden kan inte längre användas: den har använts, eller så har för många felaktiga prövats. Be om en ny.
error-email-taken = Ett annat konto har den här e-postadressen.
error-last-owner = Du är den sista ägaren av en organisation. Gör någon annan till ägare först.
