# Les mots de Lintel pour les personnes, en français : chaque page qu'un membre ou un invité
# voit, et les erreurs qu'elle montre. Chaque message est aussi dans en.ftl et sv.ftl ; un
# test échoue s'il en manque un.

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

## Connexion et création de compte

field-first-name = Prénom
field-last-name = Nom
field-email = E-mail
field-phone = Téléphone mobile
field-account-email = L'e-mail de votre compte
field-new-phone = Nouveau téléphone mobile
field-code = Code
field-device-name = Nom de l'appareil
field-choose-pin = Choisissez un code PIN
field-browser-pin = Choisissez un code PIN pour ce navigateur
field-pin = Code PIN
field-name = Nom
field-language = Langue
phone-hint = Au format international, par exemple +33 6 12 34 56 78.
device-browser = Navigateur

register-title = Créez votre compte
register-phone-hint = Au format international, par exemple +33 6 12 34 56 78. Les codes de connexion sont envoyés à ce numéro.
register-button = Créer le compte
register-have-account = Vous avez déjà un compte ?
signin-title = Connexion
signin-hint = Pas de mot de passe : nous vous envoyons un lien par e-mail, puis un code par SMS.
signin-button = M'envoyer un lien
signin-new = Nouveau ici ?
signin-create = Créer un compte
signin-new-number = Votre ancien numéro appartient maintenant à quelqu'un d'autre ?
recover-title = Ajoutez votre nouveau numéro
recover-explain = Quand un opérateur attribue votre ancien numéro à quelqu'un d'autre et que cette personne prouve qu'il est à elle, votre compte le perd. Ajoutez ici votre numéro actuel : nous vous envoyons un lien par e-mail, puis un code par SMS au nouveau numéro. Vos autres appareils sont déconnectés et les administrateurs de vos organisations sont prévenus.
recover-has-number = Votre compte a toujours votre numéro ?
check-email-title = Consultez vos e-mails
check-email-sent = Si { $email } peut se connecter, un lien est en route. Ouvrez-le sur cet appareil dans les 15 minutes ; il ne fonctionne qu'une fois.
check-email-sent-provider = Si l'e-mail de votre fournisseur peut se connecter, un lien est en route. Ouvrez-le sur cet appareil dans les 15 minutes ; il ne fonctionne qu'une fois.
check-email-nothing = Rien reçu ? Regardez dans les courriers indésirables.
try-again = Réessayer
confirm-title = Confirmez que c'est vous
confirm-explain = Continuez pour recevoir un code par SMS sur votre téléphone.
continue = Continuer
link-broken-title = Ce lien ne fonctionne pas
get-new-link = Recevoir un nouveau lien
code-title = Saisissez votre code
code-sent = Nous avons envoyé un code à 6 chiffres par SMS au { $phone }. Il est valable 10 minutes.
code-your-phone = votre téléphone
code-device-title = Nommez cet appareil
code-none-needed = Votre fournisseur a confirmé votre identité, et votre organisation n'exige pas de code par SMS.
pin-hint = Un code PIN de 4 à 8 chiffres protège le déverrouillage sur cet appareil. Évitez 1234, 0000 et autres codes de ce genre.
sign-in-failed-title = La connexion a échoué
start-again = Recommencer
other-ways-title = Ou utilisez un autre compte
other-ways-sign-in = Se connecter avec { $provider }
other-ways-register = S'inscrire avec { $provider }
other-ways-hint = L'e-mail du fournisseur doit être celui sous lequel votre organisation vous connaît. Un code est tout de même envoyé à votre téléphone.
passkey-title = Se connecter avec une clé d'accès
passkey-hint = Votre téléphone ou votre ordinateur vérifie que c'est bien vous. Le code PIN protège le déverrouillage dans ce navigateur.
passkey-use = Utiliser une clé d'accès
passkey-unsupported = Ce navigateur ne peut pas utiliser de clés d'accès.
passkey-waiting = En attente de votre clé d'accès…
passkey-not-used = Aucune clé d'accès n'a été utilisée :
failed-title = Cela n'a pas fonctionné
go-back = Retour
provider-refused-title = Non connecté
provider-refused = { $provider } ne vous a pas connecté.
back-to-sign-in = Retour à la connexion
provider-back-title = Connexion en cours
provider-back = De retour du fournisseur.
finish-account-title = Terminez la création de votre compte
finish-account-explain = Votre e-mail { $email } est confirmé. Ajoutez votre téléphone mobile : les codes de connexion y sont envoyés.
finish-account-button = M'envoyer un code par SMS

## Erreurs lues par une personne, selon le code d'erreur de l'API ; { $field } est le nom du champ

error-required = Le champ « { $field } » doit être rempli.
error-too-short = Le champ « { $field } » est trop court.
error-too-long = Le champ « { $field } » est trop long.
error-control-characters = Le champ « { $field } » ne doit pas contenir de caractères de contrôle.
error-invalid-email = Le champ « { $field } » doit être une adresse e-mail, par exemple ada@example.com.
error-invalid-phone = Le champ « { $field } » doit être un numéro de téléphone au format international, par exemple +33 6 12 34 56 78.
error-invalid-name = Le champ « { $field } » ne peut contenir que des lettres, des espaces, des traits d'union, des apostrophes et des points.
error-invalid-pin = Le champ « { $field } » doit compter 4 à 8 chiffres.
error-trivial-pin = Le champ « { $field } » est trop facile à deviner. Évitez les chiffres répétés, les suites comme 1234 et les blocs répétés comme 1212.
error-invalid-code = Le code est composé des 6 chiffres envoyés par SMS.
error-wrong-code = { $count ->
    [0] Ce n'est pas le code que nous avons envoyé.
    [one] Ce n'est pas le code que nous avons envoyé. Il vous reste un essai.
   *[other] Ce n'est pas le code que nous avons envoyé. Il vous reste { $count } essais.
}
error-sign-in-ended = Cette connexion ne peut plus être terminée. Recommencez depuis la page de connexion avec votre e-mail.
error-too-many-requests = { $count ->
    [one] Trop de tentatives. Réessayez dans une minute.
   *[other] Trop de tentatives. Réessayez dans { $count } minutes.
}
error-internal = Un problème est survenu de notre côté. Réessayez dans un instant.
error-account-locked = Trop de codes erronés. La connexion est bloquée pour un moment ; réessayez plus tard.
error-account-exists = Un compte a déjà ce numéro de téléphone. Si le numéro est désormais le vôtre, ajoutez-le à votre compte depuis la page de connexion (« Ajoutez votre nouveau numéro »).
error-link-expired = Ce lien a expiré. Demandez-en un nouveau depuis la page de connexion.
error-link-used = Ce lien a déjà été utilisé. Demandez-en un nouveau depuis la page de connexion.
error-code-expired = Le code a expiré. Recommencez depuis la page de connexion.
error-provider-unavailable = Le fournisseur est injoignable pour le moment. Réessayez, ou connectez-vous avec votre e-mail.
error-provider-answer-invalid = La réponse du fournisseur n'a pas pu être vérifiée. Recommencez.
error-provider-flow-ended = Cette connexion via un fournisseur est terminée ou a déjà été utilisée. Recommencez.
error-provider-flow-expired = La connexion via le fournisseur a pris trop de temps. Recommencez.
error-registration-expired = La création de votre compte a pris trop de temps. Recommencez.
error-passkeys-unavailable = Les clés d'accès ne sont pas configurées sur ce serveur Lintel.
error-passkey-refused = La réponse de la clé d'accès n'a pas pu être vérifiée. Réessayez.
error-ceremony-ended = Cette demande de clé d'accès est terminée ou a déjà été utilisée. Recommencez.
error-no-passkey = Ce compte n'a pas de clé d'accès.
error-device-unregistered = Trop de codes PIN erronés : cet appareil est déconnecté. Connectez-vous à nouveau.

## Dates : { $day } est le jour du mois, { $month } un nom de mois ci-dessous

date = { $day } { $month } { $year }
date-time = { $date } à { $time }
month-1 = janv.
month-2 = févr.
month-3 = mars
month-4 = avr.
month-5 = mai
month-6 = juin
month-7 = juil.
month-8 = août
month-9 = sept.
month-10 = oct.
month-11 = nov.
month-12 = déc.

## Mon profil

save = Enregistrer
confirm = Confirmer
cancel = Annuler
error-page-title = Un problème est survenu
me-your-name = Votre nom
me-language = Langue
me-language-label = Afficher les pages en
me-language-browser = Le choix de votre navigateur
me-language-hint = Le tableau de bord des administrateurs n'existe pour l'instant qu'en anglais.
me-contact = Coordonnées
me-email-is = E-mail : { $email }
me-phone-is = Téléphone : { $phone }
me-no-phone = aucun
me-new-email = Nouvel e-mail
me-app-pin = Votre code PIN de l'application
me-change-email = Changer d'e-mail
me-change-phone = Changer de téléphone
me-devices = Vos appareils
me-devices-hint = Retirer un appareil le déconnecte ; votre compte et vos accès restent.
me-device-app = application
me-device-browser = navigateur
me-this-browser = ce navigateur
me-device-used = { $kind }, dernière utilisation le { $when } UTC
me-sign-out = Se déconnecter
me-unregister = Retirer
me-delete-title = Supprimer votre compte
me-delete-explain = C'est définitif : votre compte, vos appareils et ce que Lintel conserve sur vous sont effacés. Un code est d'abord envoyé à votre téléphone.
me-delete-button = Supprimer mon compte
me-code-sent = Nous avons envoyé un code à 6 chiffres à { $to }. Il est valable 10 minutes.
me-code-sent-you = Saisissez le code à 6 chiffres que nous vous avons envoyé. Il est valable 10 minutes.
me-confirm-email = Confirmez votre nouvel e-mail
me-confirm-phone = Confirmez votre nouveau téléphone
me-confirm-delete = Confirmez la suppression de votre compte
me-email-changed-title = E-mail modifié
me-email-changed = Votre e-mail est modifié et tous vos appareils ont été déconnectés. Connectez-vous avec la nouvelle adresse.
me-phone-changed-title = Téléphone modifié
me-phone-changed = Votre numéro de téléphone est modifié et tous vos appareils ont été déconnectés. Connectez-vous à nouveau.
me-deleted-title = Compte supprimé
me-deleted = Votre compte et ce que Lintel conservait sur vous sont supprimés.
me-ways = Moyens de connexion
me-providers = Fournisseurs
me-not-linked = non associé
me-link = Associer
me-unlink = Dissocier
me-passkeys = Clés d'accès
me-no-passkey = Pas encore de clé d'accès. Une clé d'accès vous connecte avec le verrouillage d'écran de votre téléphone ou de votre ordinateur, sans e-mail ni code.
me-passkey-added = ajoutée le { $date }
me-passkey-used = ajoutée le { $date }, dernière utilisation le { $when } UTC
me-passkey-remove = Supprimer
me-passkey-name = Nommez la nouvelle clé d'accès
me-passkey-add = Ajouter une clé d'accès
me-orgs = Vos organisations
me-orgs-none = Aucune pour l'instant. Un administrateur peut vous inviter.
me-status-invited = invité
me-status-active = actif
me-status-suspended = suspendu
me-to-ask = Pour demander un accès : { $ask }
me-leave = Quitter
me-leave-warning = Quitter { $org } ? Vous ne pourrez plus ouvrir ses portes, et seule une nouvelle invitation vous y ramènera.
me-leaving-title = Quitter l'organisation
me-back = Retour à votre profil

## Invitations

invitation-title = Invitation
invitation-ask-again = Demandez à l'administrateur de l'organisation de vous envoyer une nouvelle invitation.
invitation-join = Vous êtes invité à rejoindre { $org }.
invitation-accept = Accepter l'invitation
invitation-went-to = Vous êtes invité à rejoindre { $org }. L'invitation a été envoyée à { $address }.
invitation-how = Créez votre compte ou connectez-vous avec cette adresse, et l'invitation devient la vôtre d'elle-même. Avec une autre adresse, connectez-vous et rouvrez ce lien pour l'accepter.
error-link-not-found = Ce lien ne fonctionne pas : il a peut-être été révoqué, ou son adresse est tronquée. Demandez-en un nouveau à la personne qui vous l'a envoyé.
error-invitation-not-found = Cette invitation ne fonctionne pas : elle a peut-être été révoquée ou déjà utilisée.
error-door-not-found = Cette porte n'existe plus.

## E-mails et SMS (chaque paragraphe est un message ; le code les assemble)

mail-hello = Bonjour,
mail-hello-name = Bonjour { $name },
mail-signin-subject = Votre lien de connexion à Lintel
mail-signin-open = Ouvrez ce lien pour vous connecter à Lintel :
mail-register-open = Ouvrez ce lien pour terminer la création de votre compte Lintel :
mail-signin-ignore = Il ne fonctionne qu'une fois, pendant 15 minutes. Si vous ne l'avez pas demandé, ignorez cet e-mail : personne ne peut se connecter sans recevoir aussi le code envoyé à votre téléphone.
mail-new-phone-subject = Ajoutez votre nouveau numéro de téléphone à Lintel
mail-new-phone-open = Ouvrez ce lien pour ajouter le numéro se terminant par { $digits } à votre compte Lintel et vous connecter ; un code y sera envoyé par SMS :
mail-new-phone-ignore = Il ne fonctionne qu'une fois, pendant 15 minutes. Si vous ne l'avez pas demandé, ignorez cet e-mail et prévenez votre administrateur (les administrateurs de vos organisations sont prévenus quand un numéro est ajouté).
sms-sign-in-code = Votre code Lintel est { $code }. Il expire dans 10 minutes. Ne le communiquez jamais : Lintel ne vous le demandera jamais.
mail-code-subject = Votre code Lintel
code-change-email = Votre code Lintel pour confirmer votre nouvelle adresse e-mail est { $code }. Il expire dans 10 minutes. Ne le communiquez jamais : Lintel ne vous le demandera jamais.
code-change-phone = Votre code Lintel pour confirmer votre nouveau numéro de téléphone est { $code }. Il expire dans 10 minutes. Ne le communiquez jamais : Lintel ne vous le demandera jamais.
code-delete-account = Votre code Lintel pour supprimer votre compte Lintel est { $code }. Il expire dans 10 minutes. Ne le communiquez jamais : Lintel ne vous le demandera jamais.
code-reset-phone = Votre code Lintel pour reprendre ce numéro de téléphone pour un nouveau compte Lintel est { $code }. Il expire dans 10 minutes. Ne le communiquez jamais : Lintel ne vous le demandera jamais.
mail-invitation-subject = Vous êtes invité à rejoindre { $org } sur Lintel
mail-invitation = Vous êtes invité à rejoindre { $org } sur Lintel, qui ouvre ses portes.
mail-invitation-open = Ouvrez ce lien pour accepter ; vous vous connecterez ou créerez votre compte avec cette adresse e-mail :
mail-invitation-until = Le lien fonctionne jusqu'au { $until }. Si vous ne vous y attendiez pas, ignorez cet e-mail.
mail-invitation-until-used = Le lien fonctionne jusqu'à ce qu'il soit utilisé. Si vous ne vous y attendiez pas, ignorez cet e-mail.
sms-invitation = Vous êtes invité à rejoindre { $org } sur Lintel. Accepter : { $url } (valable jusqu'au { $until })
sms-invitation-until-used = Vous êtes invité à rejoindre { $org } sur Lintel. Accepter : { $url } (valable jusqu'à utilisation)
mail-link-subject = Votre lien d'accès à { $org }
mail-link = { $org } vous a donné accès, { $validity }. Ouvrez ce lien sur votre téléphone et appuyez sur Déverrouiller devant la porte :
mail-link-keep = Gardez-le pour vous : quiconque a le lien peut ouvrir les portes.
sms-link = { $org } : votre lien d'accès, { $validity } : { $url }
validity-always = à partir de maintenant
validity-from = à partir du { $from }
validity-until = jusqu'au { $until }
validity-from-until = du { $from } au { $until }
mail-access-subject = Vous pouvez maintenant ouvrir des portes chez { $org }
mail-access = { $org } vous a donné l'accès « { $access } ». Il ouvre :
mail-access-open = Ouvrez-les avec l'application Lintel.
mail-access-open-until = Ouvrez-les avec l'application Lintel, jusqu'au { $until }.
notice-subject = Un changement sur votre compte Lintel
notice-no-phone = Quelqu'un, vous sans doute, a demandé à se connecter à Lintel avec cet e-mail. Votre compte n'a plus de numéro de téléphone : son nouveau titulaire a prouvé qu'il était à lui (les opérateurs réattribuent les anciens numéros), le code de connexion n'a donc nulle part où aller.
notice-no-phone-recover = Pour ajouter votre numéro actuel et vous connecter, ouvrez { $url }
notice-no-phone-ignore = Si vous n'avez rien demandé, ignorez cet e-mail.
notice-phone-recovered = Le numéro de téléphone de { $name }, membre de { $org }, a été repris par son nouveau titulaire (les opérateurs réattribuent les anciens numéros). Cette personne a maintenant confirmé son e-mail et un nouveau numéro se terminant par { $digits }, et s'est reconnectée ; ses autres appareils ont été déconnectés.
notice-phone-recovered-suspend = Si ce n'était pas elle, suspendez son adhésion dans le tableau de bord : { $url }
notice-phone-taken = Quelqu'un a prouvé par SMS que le numéro de téléphone de votre compte Lintel est désormais le sien (les opérateurs réattribuent les anciens numéros) ; il a donc été retiré de votre compte et vos appareils ont été déconnectés. Pour ajouter votre numéro actuel, ouvrez { $url }
notice-email-changed = L'e-mail de votre compte Lintel est passé de { $old } à { $new }. Tous les appareils ont été déconnectés ; reconnectez-vous avec la nouvelle adresse. Si ce n'est pas vous, prévenez immédiatement l'administrateur de votre organisation.
notice-phone-changed = Le numéro de téléphone de votre compte Lintel a été remplacé par un autre, et tous les appareils ont été déconnectés. Si ce n'est pas vous, prévenez immédiatement votre administrateur.
notice-takeover-stopped = Quelqu'un a essayé de nombreux codes erronés pour reprendre le numéro de téléphone { $phone } de votre compte Lintel, et a été bloqué pour une journée. Si ce n'était pas vous, rien n'a changé et vous n'avez rien à faire ; votre numéro reste le vôtre.
error-unchanged = « { $field } » : c'est déjà le vôtre.
error-wrong-pin = { $count ->
    [0] Ce code PIN est erroné.
    [one] Ce code PIN est erroné. Encore un code PIN erroné et cet appareil sera déconnecté.
   *[other] Ce code PIN est erroné. Encore { $count } codes PIN erronés et cet appareil sera déconnecté.
}
error-sms-country-not-allowed = Les codes ne sont envoyés par SMS qu'aux numéros de certains pays, et ce numéro n'en fait pas partie. Demandez à l'opérateur d'ajouter son pays.
error-verification-ended = Ce code ne peut plus être utilisé : il a déjà servi, ou trop de codes erronés ont été essayés. Demandez-en un nouveau.
error-email-taken = Un autre compte a déjà cet e-mail.
error-last-owner = Vous êtes le dernier propriétaire d'une organisation. Nommez d'abord quelqu'un d'autre propriétaire.
