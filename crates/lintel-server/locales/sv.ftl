# Lintels ord till människor, på svenska: medlemsappens flikar, Mina dörrar och en gästs
# länksida. Samma meddelanden finns i en.ftl och fr.ftl; ett test fallerar om något saknas.

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
