# Les mots de Lintel pour les personnes, en français : les onglets de l'application des
# membres, Mes portes et la page du lien d'un invité. Chaque message est aussi dans en.ftl
# et sv.ftl ; un test échoue s'il en manque un.

tab-doors = Mes portes
tab-dashboard = Administration
tab-profile = Profil

doors-title = Mes portes
doors-unlocked = Déverrouillée.
doors-none = Aucune porte ne peut être ouverte par vous pour le moment. Les administrateurs de vos organisations donnent les accès.
doors-whom-to-ask = À qui demander : voir votre profil.
doors-my-guests = Mes invités
doors-unlock = Déverrouiller
doors-app-pin = Code PIN de l'application
doors-pins-title = Mes codes PIN
doors-pins-hint = Pour les claviers de ces sites. Vous seul pouvez les voir.
doors-pins-show = Afficher mes codes PIN

kind-door = porte
kind-gate = portail
kind-locker = casier
kind-storage-unit = box de stockage
kind-relay = relais

ask-an-administrator = un administrateur
ask-either = { $first } ou { $second }
ask-sender = { $name }, qui vous a envoyé le lien

deny-unknown-credential = Ce téléphone n'est pas connu ici. Reconnectez-vous.
deny-credential-revoked = Ce téléphone ne peut plus ouvrir de portes ici. Demandez pourquoi à { $ask }.
deny-membership-suspended = Votre adhésion ici est suspendue. Demandez à { $ask } de la rétablir.
deny-no-access = Vous n'avez pas accès à cette porte. Demandez l'accès à { $ask }.
deny-not-yet-valid = Votre accès à cette porte n'a pas encore commencé. Demandez à { $ask } s'il aurait dû commencer.
deny-expired = Votre accès à cette porte a pris fin. Demandez à { $ask } de le prolonger.
deny-outside-schedule = Votre accès ne couvre pas cette heure de la journée. Demandez à { $ask } si vous en avez besoin maintenant.
deny-auth-type-not-allowed = Cette porte ne s'ouvre pas ainsi avec l'application. Utilisez votre badge ou votre code PIN, ou demandez à { $ask }.
deny-pin-required = Saisissez le code PIN de l'application pour déverrouiller.
deny-outside-geofence = Vous devez être sur le site : autorisez cette page à utiliser votre position, puis réessayez sur place.
deny-reader-required = Cette porte ne s'ouvre qu'à son lecteur, avec votre badge ou votre code PIN.
deny-door-offline = La porte est injoignable pour le moment. Réessayez dans une minute ; si cela dure, prévenez { $ask }.
deny-too-many-attempts = Trop de codes erronés ont été saisis à cette porte. Utilisez votre téléphone ou votre badge, ou attendez quelques minutes.
deny-rules-stale = La porte est coupée de Lintel depuis trop longtemps pour que ses règles soient fiables. Prévenez { $ask } pour que son contrôleur soit reconnecté.

guest-deny-no-access = Ce lien n'ouvre pas cette porte. Demandez l'accès à { $sender }, qui l'a envoyé.
guest-deny-outside-schedule = Cette porte n'est pas ouverte aux invités à cette heure. Demandez à { $sender }, qui vous a envoyé le lien, quand venir.
guest-deny-auth-type-not-allowed = Cette porte ne s'ouvre pas avec un lien. Demandez à { $sender }, qui l'a envoyé, de vous faire entrer.

link-title = Lien d'accès
link-hello = Bonjour { $name }. Ce lien vient de { $org }.
link-hello-doors = Bonjour { $name }. Ce lien vient de { $org } et ouvre ces portes.
link-valid-from-until = Valable du { $from } au { $until }.
link-valid-from = Valable à partir du { $from }.
link-valid-until = Valable jusqu'au { $until }.
link-not-yet-valid = Ce lien n'est pas encore valable.
link-expired = Ce lien a expiré.
link-revoked = Ce lien a été révoqué.
link-no-door = Ce lien n'ouvre aucune porte pour le moment.
