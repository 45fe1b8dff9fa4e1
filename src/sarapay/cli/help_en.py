"""English help of every command, option and argument (sarapay --lang en COMMAND --help).

Keys are the French help texts as shown (after app._reflow), values their English twin. Imported only when
the language is English. tests/cli/test_help_english.py lists any French help text missing here.
"""

from __future__ import annotations

HELP_EN: dict[str, str] = {
    'Paiement en ligne des téléconsultations sur Stripe Connect : empreinte bancaire, capture, versements.':
        'Online payment of teleconsultations on Stripe Connect: card hold, capture, payouts.',
    'Langue des messages : fr (défaut) ou en. Aussi SARAPAY_LANG.':
        'Language of messages and help: fr (default) or en. Also SARAPAY_LANG.',
    'Couleurs : auto (défaut : sur un terminal, sauf NO_COLOR ou CLICOLOR=0), always ou never.':
        'Colours: auto (default: on a terminal, unless NO_COLOR or CLICOLOR=0), always or never.',
    'Autorise une clé live (sk_live_…). Sans lui, seul le mode test est accepté.':
        'Allow a live key (sk_live_…). Without it, only test mode is accepted.',
    'Affiche la version.':
        'Show the version.',
    "Raconte toute l'histoire avec les vraies commandes, sur le bac à sable embarqué, sans compte Stripe.\n\nLiaison OAuth d'une praticienne, maximum de 25 €, empreinte, capture de 20 € (frais et net), paiement contesté par la banque du patient, empreinte bientôt expirée signalée par le rapprochement, puis expirée, versement et son contenu, paiement incomplet, consultation sans paiement, tableau final. Rien n'est conservé : dossier temporaire, bac à sable en mémoire.":
        "Tells the whole story with the real commands, on the built-in sandbox, without a Stripe account.\n\nOAuth linking of a practitioner, a 25 € maximum, card hold, capture of 20 € (fees and net), payment disputed by the patient's bank, hold expiring soon flagged by reconciliation, then expired, payout and its contents, incomplete payment, consultation without payment, final table. Nothing is kept: temporary folder, in-memory sandbox.",
    'Exemple : sarapay demo':
        'Example: sarapay demo',
    'Bac à sable':
        'Sandbox',
    'Paiements contestés par les patients auprès de leur banque : montant retiré, frais de contestation, motif, échéance pour répondre (heure de Paris) et lien où le praticien répond, dans son tableau de bord Stripe.':
        'Payments disputed by patients with their bank: amount withdrawn, dispute fee, reason, deadline to respond (Paris time) and the link where the practitioner responds, in their Stripe dashboard.',
    'Exemples : [bold]sarapay disputes[/] · [bold]sarapay disputes --open[/] · [bold]sarapay disputes --practitioner 10000012343 --refresh --json[/]':
        'Examples: [bold]sarapay disputes[/] · [bold]sarapay disputes --open[/] · [bold]sarapay disputes --practitioner 10000012343 --refresh --json[/]',
    'Support':
        'Support',
    'Seulement ce praticien (RPPS).':
        'Only this practitioner (RPPS).',
    'Seulement les contestations en cours (à répondre ou en examen).':
        'Only open disputes (awaiting a response or under review).',
    "Relit d'abord les contestations chez Stripe (une requête par compte suivi), comme le rapprochement.":
        'First re-reads the disputes from Stripe (one request per followed account), like reconciliation.',
    'Sortie JSON (clés stables, montants en centimes, heures ISO 8601 UTC).':
        'JSON output (stable keys, amounts in cents, ISO 8601 UTC times).',
    "Estime les frais Stripe d'une capture et ce qui reste au praticien (tarif Stripe standard EEE par défaut).":
        'Estimates the Stripe fees of a capture and what the practitioner keeps (standard EEA Stripe pricing by default).',
    'Exemples : [bold]sarapay fees 25[/] (1,5 % + 0,25 € : 0,63 €) · [bold]sarapay fees 25 --rate 1.4[/] (ancien tarif : 0,60 €) · [bold]sarapay fees 25,50 --json[/]':
        'Examples: [bold]sarapay fees 25[/] (1.5 % + 0.25 €: 0.63 €) · [bold]sarapay fees 25 --rate 1.4[/] (former pricing: 0.60 €) · [bold]sarapay fees 25,50 --json[/]',
    'Versements':
        'Payouts',
    'Montant capturé : 25, 25,50, 25.50 ou 25,50 €.':
        'Captured amount: 25, 25,50, 25.50 or 25,50 €.',
    "Part proportionnelle en % (défaut : 1,5 ; 1.4 pour l'ancien tarif).":
        'Percentage part in % (default: 1.5; 1.4 for the former pricing).',
    'Part fixe par paiement (défaut : 0,25 €).':
        'Fixed part per payment (default: 0.25 €).',
    "Lie le compte Stripe d'un praticien à la plateforme (Connect), ou vérifie cet appariement.\n\nModes : --email (lien d'autorisation OAuth pour un compte existant ou à créer), --code/--state ou --return-url (fin de l'autorisation), --new (compte créé par la plateforme + lien d'inscription), --account (compte déjà connecté), --check (état de l'appariement).\n\nCode de sortie de --check : 0 si l'appariement est en bon état ou si l'inscription reste à terminer (le nouveau lien est alors affiché), 5 si Stripe refuse (accès révoqué par exemple).":
        "Links a practitioner's Stripe account to the platform (Connect), or checks that link.\n\nModes: --email (OAuth authorisation link for an existing or new account), --code/--state or --return-url (end of the authorisation), --new (account created by the platform + onboarding link), --account (account already connected), --check (state of the link).\n\nExit code of --check: 0 if the link is in good shape or if onboarding is still to be finished (the new link is then shown), 5 if Stripe refuses (access revoked for instance).",
    "Exemples : [bold]sarapay link 10000000017 --email dr.martin@example.fr[/] (lien d'autorisation) · [bold]sarapay link 10000000017 --code ac_… --state …[/] (au retour) · [bold]sarapay link 10000000017 --new --email dr.martin@example.fr[/] · [bold]sarapay link 10000000017 --account acct_1Nv0FGQ9RKHgCVdK[/] · [bold]sarapay link 10000000017 --check[/]":
        'Examples: [bold]sarapay link 10000000017 --email dr.martin@example.fr[/] (authorisation link) · [bold]sarapay link 10000000017 --code ac_… --state …[/] (on return) · [bold]sarapay link 10000000017 --new --email dr.martin@example.fr[/] · [bold]sarapay link 10000000017 --account acct_1Nv0FGQ9RKHgCVdK[/] · [bold]sarapay link 10000000017 --check[/]',
    'Numéro RPPS du praticien (11 chiffres, ou 12 commençant par 8).':
        "The practitioner's RPPS number (11 digits, or 12 starting with 8).",
    'E-mail du praticien (pré-remplit la page Stripe).':
        "The practitioner's e-mail (pre-fills the Stripe page).",
    'Nom affiché dans sarapay (jamais envoyé à Stripe).':
        'Name shown in sarapay (never sent to Stripe).',
    "Crée un nouveau compte connecté et affiche son lien d'inscription.":
        'Creates a new connected account and shows its onboarding link.',
    'Rattache un compte déjà connecté à la plateforme (acct_…).':
        'Attaches an account already connected to the platform (acct_…).',
    "Code d'autorisation reçu au retour (ac_…), avec --state.":
        'Authorisation code received on return (ac_…), with --state.',
    'Paramètre state reçu au retour, avec --code.':
        'State parameter received on return, with --code.',
    "L'adresse de retour complète (contient code et state, ou l'erreur).":
        'The full return address (contains code and state, or the error).',
    "Vérifie l'appariement ; émet un nouveau lien d'inscription si besoin.":
        'Checks the link; issues a new onboarding link if needed.',
    'Sortie JSON (clés stables, heures ISO 8601 UTC).':
        'JSON output (stable keys, ISO 8601 UTC times).',
    "Délie le compte Stripe d'un praticien : retire l'accès de la plateforme, sans jamais supprimer le compte.\n\nCompte relié par OAuth : l'accès de la plateforme est révoqué (deauthorize). Compte créé par la plateforme : la plateforme ne peut pas s'en retirer ; sarapay l'oublie seulement localement, le compte reste sur Stripe. Refusé tant qu'il reste des empreintes non capturées (sauf --force).":
        "Unlinks a practitioner's Stripe account: removes the platform's access, never deleting the account.\n\nAccount linked through OAuth: the platform's access is revoked (deauthorize). Account created by the platform: the platform cannot withdraw from it; sarapay only forgets it locally, the account stays on Stripe. Refused while uncaptured holds remain (unless --force).",
    'Exemples : [bold]sarapay unlink 10000000017[/] · [bold]sarapay unlink 10000000017 --dry-run[/] · [bold]sarapay unlink 10000000017 --yes[/] (sans question, pour un script)':
        'Examples: [bold]sarapay unlink 10000000017[/] · [bold]sarapay unlink 10000000017 --dry-run[/] · [bold]sarapay unlink 10000000017 --yes[/] (no question, for a script)',
    'Numéro RPPS du praticien.':
        "The practitioner's RPPS number.",
    'Ne pose pas de question (obligatoire sans terminal).':
        'Asks no question (required without a terminal).',
    'Montre la requête sans rien envoyer ni modifier.':
        'Shows the request without sending or changing anything.',
    "Délie même s'il reste des empreintes bancaires non capturées.":
        'Unlinks even if uncaptured card holds remain.',
    'Sortie JSON du résultat.':
        'JSON output of the result.',
    "Journal d'audit : quand (heure de Paris), qui, quelle commande, sur quoi, résultat, détail, requête Stripe.\n\nÀ l'écran, le détail est dit en mots (« Capture de 20,00 € ») et les colonnes qui n'entrent pas dans le terminal (qui, requête Stripe) sont laissées de côté ; --json, --csv et --nl gardent le détail tel qu'enregistré.":
        'Audit log: when (Paris time), who, which command, on what, result, detail, Stripe request.\n\nOn screen, the detail is put into words (« Capture de 20,00 € ») and the columns that do not fit in the terminal (who, Stripe request) are left out; --json, --csv and --nl keep the detail as recorded.',
    'Exemples : [bold]sarapay log[/] · [bold]sarapay log -n 100 --command capture[/] · [bold]sarapay log --target TC-8F3K2Q --json[/]':
        'Examples: [bold]sarapay log[/] · [bold]sarapay log -n 100 --command capture[/] · [bold]sarapay log --target TC-8F3K2Q --json[/]',
    'Administration':
        'Administration',
    "Nombre d'entrées, les plus récentes d'abord (défaut : 20).":
        'Number of entries, most recent first (default: 20).',
    'Seulement cette commande (capture, refund, payouts.schedule…).':
        'Only this command (capture, refund, payouts.schedule…).',
    'Seulement cette cible (TC-…, RPPS).':
        'Only this target (TC-…, RPPS).',
    'Sortie CSV (virgule, en-tête, montants en centimes, heures ISO 8601 UTC).':
        'CSV output (comma, header, amounts in cents, ISO 8601 UTC times).',
    'Sortie NDJSON : un objet JSON par ligne (clés stables, centimes, ISO 8601 UTC).':
        'NDJSON output: one JSON object per line (stable keys, cents, ISO 8601 UTC).',
    "Débite le patient après l'acte : capture tout ou partie de l'empreinte bancaire.\n\nLe reste de l'empreinte est libéré par Stripe ; une empreinte ne se capture qu'une fois. Affiche ensuite le montant capturé, les frais Stripe et le net pour le praticien.":
        'Charges the patient after the consultation: captures all or part of the card hold.\n\nStripe releases the rest of the hold; a hold can be captured only once. Then shows the captured amount, the Stripe fees and the net for the practitioner.',
    "Exemples : sarapay capture TC-8F3K2Q 20 (capture 20 € et libère le reste) · sarapay capture TC-8F3K2Q (toute l'empreinte) · sarapay capture TC-8F3K2Q 0 (libère toute l'empreinte)":
        'Examples: sarapay capture TC-8F3K2Q 20 (captures 20 € and releases the rest) · sarapay capture TC-8F3K2Q (the whole hold) · sarapay capture TC-8F3K2Q 0 (releases the whole hold)',
    'Identifiant de la consultation (TC-…).':
        'Consultation identifier (TC-…).',
    "Montant à débiter : de 0,50 € jusqu'à l'empreinte (défaut : toute l'empreinte ; 0 la libère).":
        'Amount to charge: from 0.50 € up to the hold (default: the whole hold; 0 releases it).',
    'Ne pose pas de question (tâches cron) : exécute directement.':
        'Asks no question (cron jobs): runs straight away.',
    'Montre la requête qui serait envoyée à Stripe, sans rien envoyer.':
        'Shows the request that would be sent to Stripe, without sending anything.',
    'Sortie JSON (centimes, clés stables).':
        'JSON output (cents, stable keys).',
    "Annule une consultation : libère l'empreinte, ferme le lien de paiement encore ouvert, ou annule une consultation planifiée sans paiement en ligne.\n\nRien n'est débité au patient. Sans paiement en ligne, seul le registre change (« Annulé ») : rien n'est envoyé à Stripe. Refusé une fois le paiement capturé (voir « sarapay refund »).":
        'Cancels a consultation: releases the hold, closes the payment link still open, or cancels a planned consultation without online payment.\n\nThe patient is charged nothing. Without online payment, only the ledger changes (« Annulé »): nothing is sent to Stripe. Refused once the payment is captured (see « sarapay refund »).',
    'Exemple : sarapay cancel TC-8F3K2Q --yes':
        'Example: sarapay cancel TC-8F3K2Q --yes',
    "Rembourse au patient tout ou partie d'un paiement capturé.\n\nLes frais Stripe de la capture restent dus par le praticien. Un second remboursement de la même consultation doit être voulu : la confirmation liste ceux déjà faits, et avec --yes il faut --again. Relancer après une réponse perdue renvoie la même demande (même clé) : le patient n'est remboursé qu'une fois.":
        'Refunds the patient all or part of a captured payment.\n\nThe Stripe fees of the capture remain payable by the practitioner. A second refund of the same consultation must be intended: the confirmation lists those already made, and with --yes --again is required. Re-running after a lost response sends the same request (same key): the patient is refunded only once.',
    'Exemples : sarapay refund TC-8F3K2Q (tout ce qui reste) · sarapay refund TC-8F3K2Q 5,50 · sarapay refund TC-8F3K2Q 2 --yes --again (un second remboursement, voulu)':
        'Examples: sarapay refund TC-8F3K2Q (everything left) · sarapay refund TC-8F3K2Q 5,50 · sarapay refund TC-8F3K2Q 2 --yes --again (a second refund, intended)',
    'Montant à rembourser (défaut : tout ce qui reste remboursable).':
        'Amount to refund (default: everything still refundable).',
    "Confirme un nouveau remboursement d'une consultation déjà remboursée en partie (exigé avec --yes).":
        'Confirms a new refund of a consultation already partly refunded (required with --yes).',
    "Solde (disponible, en attente), calendrier et versements récents du compte Stripe d'un praticien, ou le contenu d'un versement (--payout).":
        "Balance (available, pending), schedule and recent payouts of a practitioner's Stripe account, or the contents of a payout (--payout).",
    'Exemples : [bold]sarapay payouts 10000012343[/] · [bold]sarapay payouts 10000012343 --schedule weekly:monday[/] · [bold]sarapay payouts 10000012343 --schedule monthly:1 --json[/] · [bold]sarapay payouts 10000012343 --payout po_1QxY2Z[/]':
        'Examples: [bold]sarapay payouts 10000012343[/] · [bold]sarapay payouts 10000012343 --schedule weekly:monday[/] · [bold]sarapay payouts 10000012343 --schedule monthly:1 --json[/] · [bold]sarapay payouts 10000012343 --payout po_1QxY2Z[/]',
    'Le praticien (RPPS, 11 chiffres, ou IDNPS de la carte CPS).':
        'The practitioner (RPPS, 11 digits, or IDNPS from the CPS card).',
    'Change le calendrier : daily, weekly:monday (ou hebdomadaire:lundi), monthly:1 (jour 1 à 31), manual ; le jour est obligatoire pour weekly et monthly. Possible seulement sur les comptes créés par la plateforme.':
        'Changes the schedule: daily, weekly:monday (or hebdomadaire:lundi), monthly:1 (day 1 to 31), manual; the day is required for weekly and monthly. Only possible on accounts created by the platform.',
    'Montre ce que contient ce versement : une ligne par transaction Stripe (paiement, remboursement, litige) avec sa consultation, et la somme des nets comparée au montant versé. Versements automatiques seulement.':
        'Shows what this payout contains: one line per Stripe transaction (payment, refund, dispute) with its consultation, and the sum of the nets compared with the amount paid out. Automatic payouts only.',
    'Nombre de versements récents montrés (1 à 100).':
        'Number of recent payouts shown (1 to 100).',
    "Planifie une téléconsultation, avec ou sans paiement en ligne.\n\nAvec --paid, crée sur le compte Stripe du praticien une page de paiement (empreinte bancaire du montant maximal, capturée après l'acte) et affiche son lien, à envoyer au patient ; il vit 24 h. Le compte doit pouvoir accepter les cartes (inscription Stripe terminée) : sinon rien n'est créé, et « sarapay link RPPS --check » dit ce qui manque. Sans --paid, la consultation est notée « Sans paiement en ligne » et rien n'est envoyé à Stripe.":
        "Plans a teleconsultation, with or without online payment.\n\nWith --paid, creates a payment page on the practitioner's Stripe account (card hold of the maximum amount, captured after the consultation) and shows its link, to send to the patient; it lives 24 h. The account must be able to accept cards (Stripe onboarding finished): otherwise nothing is created, and « sarapay link RPPS --check » says what is missing. Without --paid, the consultation is recorded « Sans paiement en ligne » and nothing is sent to Stripe.",
    'Exemple : sarapay plan 10000012343 --at "01/12/2026 10:30" --paid --max 20 --patient-ref P-0042 --email patient@example.fr':
        'Example: sarapay plan 10000012343 --at "01/12/2026 10:30" --paid --max 20 --patient-ref P-0042 --email patient@example.fr',
    'RPPS du praticien (11 chiffres, ou 12 commençant par 8).':
        "The practitioner's RPPS (11 digits, or 12 starting with 8).",
    'Date et heure de la téléconsultation, heure de Paris : « 01/12/2026 10:30 ».':
        'Date and time of the teleconsultation, Paris time: « 01/12/2026 10:30 ».',
    'Paiement en ligne : crée la page de paiement (empreinte bancaire).':
        'Online payment: creates the payment page (card hold).',
    "Montant maximal de l'empreinte (avec --paid) : « 20 », « 20,50 ». Au plus le maximum du praticien.":
        "Maximum amount of the hold (with --paid): « 20 », « 20,50 ». At most the practitioner's maximum.",
    'Référence opaque du patient dans le portail (jamais envoyée à Stripe).':
        'Opaque patient reference in the portal (never sent to Stripe).',
    'E-mail du patient, pour préremplir la page de paiement (avec --paid).':
        "The patient's e-mail, to pre-fill the payment page (with --paid).",
    'Sortie JSON (centimes, heures ISO 8601 UTC).':
        'JSON output (cents, ISO 8601 UTC times).',
    "Émet un nouveau lien de paiement quand le précédent a expiré (ou l'empreinte).\n\nLe lien encore ouvert, s'il y en a un, est fermé d'abord : un seul lien peut être payé. Refusé si la consultation est sans paiement en ligne, si le patient a déjà laissé son empreinte, ou si elle est capturée, annulée ou remboursée.":
        'Issues a new payment link when the previous one has expired (or the hold).\n\nThe link still open, if any, is closed first: only one link can be paid. Refused if the consultation has no online payment, if the patient has already left their hold, or if it is captured, cancelled or refunded.',
    'Exemple : sarapay pay-link TC-8F3K2Q':
        'Example: sarapay pay-link TC-8F3K2Q',
    'Sortie JSON (heures ISO 8601 UTC).':
        'JSON output (ISO 8601 UTC times).',
    'Met à jour depuis Stripe les paiements en cours et signale ce qui demande une personne (code 8) : empreintes bientôt expirées ou expirées, cartes refusées, liens de paiement expirés, paiements contestés et réponses aux contestations bientôt dues. Sans danger à relancer.':
        'Updates payments in progress from Stripe and flags what needs a person (code 8): holds expiring soon or expired, declined cards, expired payment links, disputed payments and dispute responses due soon. Safe to re-run.',
    'Exemples : [bold]sarapay reconcile[/] · [bold]sarapay reconcile --warn-within 24h --json[/] · cron : [bold]*/30 * * * * sarapay reconcile --json > /var/log/sarapay/reconcile.json || alerte[/] (code 8 : à traiter ; 6 : Stripe injoignable ; 1 : un autre passage est en cours).':
        'Examples: [bold]sarapay reconcile[/] · [bold]sarapay reconcile --warn-within 24h --json[/] · cron: [bold]*/30 * * * * sarapay reconcile --json > /var/log/sarapay/reconcile.json || alerte[/] (code 8: to handle; 6: Stripe unreachable; 1: another run is in progress).',
    'Rapprochement':
        'Reconciliation',
    'Signale les empreintes à capturer et les contestations à répondre avant cette échéance (48h, 2j, 36h…).':
        'Flags the holds to capture and the disputes to respond to before this deadline (48h, 2j, 36h…).',
    "Envoie à chaque praticien un e-mail listant ses empreintes à capturer avant l'échéance, et ses contestations à traiter (identifiant, date, montant, échéance ; rien sur le patient), dans sa langue (prefs set-lang). Les paiements en cours sont d'abord mis à jour depuis Stripe. Chaque rappel ne part qu'une fois : sans danger à relancer.":
        'Sends each practitioner an e-mail listing their holds to capture before the deadline, and their disputes to handle (identifier, date, amount, deadline; nothing about the patient), in their language (prefs set-lang). Payments in progress are first updated from Stripe. Each reminder is sent only once: safe to re-run.',
    "Exemples : [bold]sarapay remind --dry-run[/] (montre les e-mails, n'envoie rien) · [bold]sarapay remind --within 24h --json[/] · cron : [bold]0 * * * * sarapay remind --json >> /var/log/sarapay/remind.json || alerte[/] (code 8 : un praticien sans adresse ; 6 : serveur d'envoi injoignable, repris au passage suivant ; 4 : réglage SMTP à corriger).":
        'Examples: [bold]sarapay remind --dry-run[/] (shows the e-mails, sends nothing) · [bold]sarapay remind --within 24h --json[/] · cron: [bold]0 * * * * sarapay remind --json >> /var/log/sarapay/remind.json || alerte[/] (code 8: a practitioner without an address; 6: mail server unreachable, retried on the next run; 4: SMTP setting to fix).',
    'Rappelle les empreintes à capturer, et les contestations à traiter, avant cette échéance (48h, 2j, 36h…).':
        'Reminds of the holds to capture, and the disputes to handle, before this deadline (48h, 2j, 36h…).',
    "Affiche les e-mails qui partiraient ; n'envoie et n'enregistre rien.":
        'Shows the e-mails that would be sent; sends and records nothing.',
    "Lit le registre tel que le dernier rapprochement l'a laissé, sans rien demander à Stripe.":
        'Reads the ledger as the last reconciliation left it, without asking Stripe anything.',
    "Relevé mensuel d'un praticien : les transactions Stripe du mois (consultations encaissées, remboursements, litiges) avec les frais Stripe et le net, les versements arrivés dans le mois, les totaux. Montants tels que Stripe les a comptés, jamais recalculés.":
        "A practitioner's monthly statement: the month's Stripe transactions (consultations collected, refunds, disputes) with the Stripe fees and the net, the payouts that arrived in the month, the totals. Amounts as Stripe counted them, never recomputed.",
    'Exemples : [bold]sarapay statement 10000012343 --month 2026-11[/] · [bold]sarapay statement 10000012343 --month 2026-11 --pdf releve-2026-11.pdf[/] · [bold]sarapay statement 10000012343 --month 11/2026 --excel > releve.csv[/]':
        'Examples: [bold]sarapay statement 10000012343 --month 2026-11[/] · [bold]sarapay statement 10000012343 --month 2026-11 --pdf releve-2026-11.pdf[/] · [bold]sarapay statement 10000012343 --month 11/2026 --excel > releve.csv[/]',
    'Le mois, en heure de Paris : 2026-11 (ou 11/2026), du 1er à 00:00 au dernier jour à 24:00.':
        'The month, in Paris time: 2026-11 (or 11/2026), from the 1st at 00:00 to the last day at 24:00.',
    'Écrit le relevé en PDF dans FICHIER (à remettre au comptable) : consultations, remboursements, litiges, versements, totaux. Aucune donnée patient, seulement les identifiants de consultation.':
        'Writes the statement as a PDF to FICHIER (to hand to the accountant): consultations, refunds, disputes, payouts, totals. No patient data, only consultation identifiers.',
    'Sortie CSV standard (virgule, en-tête, montants en centimes, heures ISO 8601 UTC) ; pour un Excel français, préférez --excel.':
        'Standard CSV output (comma, header, amounts in cents, ISO 8601 UTC times); for a French Excel, prefer --excel.',
    'Tableur français (Excel) : point-virgule, UTF-8 avec BOM, montants 25,00, dates jj/mm/aaaa HH:MM (Paris).':
        'French spreadsheet (Excel): semicolon, UTF-8 with BOM, amounts 25,00, dates dd/mm/yyyy HH:MM (Paris).',
    "Tableau des paiements (états, montants, frais, échéances) et totaux par état, ou une consultation en détail.\n\nÀ l'écran, ce qui demande une action vient d'abord : les empreintes à capturer (échéance la plus proche en tête), les paiements incomplets du jour, puis aujourd'hui et les jours passés (les plus récents d'abord), enfin les jours à venir. Les sorties --json, --csv, --nl et --excel restent dans l'ordre des dates, les plus récentes d'abord.":
        "Table of payments (states, amounts, fees, deadlines) and totals per state, or one consultation in detail.\n\nOn screen, what needs action comes first: the holds to capture (nearest deadline first), the day's incomplete payments, then today and past days (most recent first), and finally the days to come. The --json, --csv, --nl and --excel outputs stay in date order, most recent first.",
    'Exemples : [bold]sarapay status[/] · [bold]sarapay status TC-8F3K2Q[/] · [bold]sarapay status --practitioner 10000012343 --state "Non capturé" --since 01/12/2026[/] · [bold]sarapay status --since 2026-12-01 --until 2026-12-31 --excel > decembre.csv[/]':
        'Examples: [bold]sarapay status[/] · [bold]sarapay status TC-8F3K2Q[/] · [bold]sarapay status --practitioner 10000012343 --state "Non capturé" --since 01/12/2026[/] · [bold]sarapay status --since 2026-12-01 --until 2026-12-31 --excel > decembre.csv[/]',
    'Une consultation (TC-…) à voir en détail, avec son historique.':
        'One consultation (TC-…) to see in detail, with its history.',
    'Seulement cet état, en code ou en libellé (uncaptured, « Non capturé »…) ; répétable.':
        'Only this state, as a code or a label (uncaptured, « Non capturé »…); repeatable.',
    'À partir de ce jour inclus (01/12/2026), heure de Paris.':
        'From this day included (01/12/2026), Paris time.',
    "Jusqu'à ce jour inclus (31/12/2026), heure de Paris.":
        'Up to this day included (31/12/2026), Paris time.',
    "Met d'abord à jour depuis Stripe les consultations non finales listées (ou celle nommée).":
        'First updates from Stripe the non-final consultations listed (or the one named).',
    "Au plus N consultations : à capturer d'abord (échéance la plus proche), puis aujourd'hui et les plus récentes (défaut : 50 à l'écran, toutes en --json/--csv/--nl ; 0 : toutes).":
        'At most N consultations: those to capture first (nearest deadline), then today and the most recent (default: 50 on screen, all with --json/--csv/--nl; 0: all).',
    "Montre l'e-mail du patient en clair (masqué par défaut, absent des sorties machine).":
        "Shows the patient's e-mail in clear (masked by default, absent from machine outputs).",
    'Reconstruit le registre depuis Stripe (la référence) : ajoute les consultations payées en ligne qui manquent, corrige celles qui divergent ; les consultations sans paiement en ligne et les références patient restent telles quelles.':
        'Rebuilds the ledger from Stripe (the reference): adds the missing consultations paid online, corrects those that differ; consultations without online payment and patient references stay as they are.',
    'Exemple : [bold]sarapay sync --rebuild[/] (sur une nouvelle machine, après avoir rattaché les praticiens avec « sarapay link RPPS --account acct_… »).':
        'Example: [bold]sarapay sync --rebuild[/] (on a new machine, after attaching the practitioners with « sarapay link RPPS --account acct_… »).',
    'Reconstruit les consultations payées en ligne depuis Stripe, dans un registre vide ou existant.':
        'Rebuilds the consultations paid online from Stripe, into an empty or existing ledger.',
    "Réglages : clé secrète Stripe, identifiant client Connect, adresse de l'API, serveur d'envoi des rappels, emplacement des fichiers.":
        'Settings: Stripe secret key, Connect client id, API address, reminder mail server, file locations.',
    'Enregistre la clé secrète Stripe de la plateforme (jamais en argument : saisie masquée ou --stdin).':
        "Saves the platform's Stripe secret key (never as an argument: hidden input or --stdin).",
    'Exemples : [bold]sarapay config set-key[/] (saisie masquée, trousseau du système) · [bold]sarapay config set-key --file --stdin < cle.txt[/] (serveur, cron : fichier 0600).':
        'Examples: [bold]sarapay config set-key[/] (hidden input, system keyring) · [bold]sarapay config set-key --file --stdin < cle.txt[/] (server, cron: 0600 file).',
    "Lit la clé sur une ligne de l'entrée standard (sans terminal).":
        'Reads the key from one line of standard input (no terminal).',
    'Enregistre la clé dans un fichier 0600 (SARAPAY_KEY_FILE ou le fichier par défaut) plutôt que dans le trousseau.':
        'Saves the key in a 0600 file (SARAPAY_KEY_FILE or the default file) rather than in the keyring.',
    "Enregistre l'identifiant client Connect (ca_…) utilisé pour lier les praticiens par OAuth.":
        'Saves the Connect client id (ca_…) used to link practitioners through OAuth.',
    'Exemple : [bold]sarapay config set-client-id ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7[/]':
        'Example: [bold]sarapay config set-client-id ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7[/]',
    'Identifiant client Connect de la plateforme (ca_…).':
        "The platform's Connect client id (ca_…).",
    'Règle les pages du portail où Stripe renvoie le patient après la page de paiement.':
        'Sets the portal pages where Stripe sends the patient back after the payment page.',
    'Exemple : [bold]sarapay config set-return-urls --success https://portail.example.fr/paiement/merci --cancel https://portail.example.fr/paiement/annule[/]':
        'Example: [bold]sarapay config set-return-urls --success https://portail.example.fr/paiement/merci --cancel https://portail.example.fr/paiement/annule[/]',
    'Page affichée au patient après son empreinte bancaire.':
        'Page shown to the patient after their card hold.',
    'Page affichée si le patient revient en arrière.':
        'Page shown if the patient goes back.',
    'Fait parler sarapay à un autre serveur que Stripe, typiquement le bac à sable local.':
        'Makes sarapay talk to a server other than Stripe, typically the local sandbox.',
    'Exemples : [bold]sarapay config set-api-base http://127.0.0.1:12111[/] (bac à sable local) · [bold]sarapay config set-api-base --reset[/] (retour à Stripe).':
        'Examples: [bold]sarapay config set-api-base http://127.0.0.1:12111[/] (local sandbox) · [bold]sarapay config set-api-base --reset[/] (back to Stripe).',
    'Adresse de base, ex. http://127.0.0.1:12111 (sans /v1).':
        'Base address, e.g. http://127.0.0.1:12111 (without /v1).',
    "Revient à l'API de Stripe.":
        "Goes back to Stripe's API.",
    "Partage le registre d'une équipe sur PostgreSQL (le mot de passe : trousseau, PGPASSWORD ou ~/.pgpass).":
        "Shares a team's ledger on PostgreSQL (the password: keyring, PGPASSWORD or ~/.pgpass).",
    'Exemples : [bold]sarapay config set-database postgresql://sarapay@db.example:5432/sarapay[/] · [bold]sarapay config set-database --reset[/] (retour au fichier SQLite). Le mot de passe : --password (saisie masquée, gardé dans le trousseau), ou PGPASSWORD, ou ~/.pgpass.':
        'Examples: [bold]sarapay config set-database postgresql://sarapay@db.example:5432/sarapay[/] · [bold]sarapay config set-database --reset[/] (back to the SQLite file). The password: --password (hidden input, kept in the keyring), or PGPASSWORD, or ~/.pgpass.',
    'postgresql://utilisateur@hôte:port/base, sans mot de passe.':
        'postgresql://user@host:port/database, without a password.',
    'Demande le mot de passe (saisie masquée) et le garde dans le trousseau.':
        'Asks for the password (hidden input) and keeps it in the keyring.',
    "Avec --password : lit le mot de passe sur l'entrée standard.":
        'With --password: reads the password from standard input.',
    'Revient au registre SQLite local.':
        'Goes back to the local SQLite ledger.',
    "Règle le serveur d'envoi des rappels aux praticiens (sarapay remind). Le mot de passe ne passe jamais en argument : trousseau du système (--password) ou variable SARAPAY_SMTP_PASSWORD.":
        'Sets the mail server for reminders to practitioners (sarapay remind). The password is never an argument: system keyring (--password) or the SARAPAY_SMTP_PASSWORD variable.',
    "Exemples : [bold]sarapay config set-smtp smtp.example.fr:587 --user rappels@example.fr --from rappels@example.fr --password[/] (saisie masquée, trousseau) · cron : [bold]sarapay config set-smtp smtp.example.fr --user rappels@example.fr --from rappels@example.fr[/] (avec SARAPAY_SMTP_PASSWORD dans l'environnement) · relais local : [bold]sarapay config set-smtp 127.0.0.1:25 --no-starttls --from rappels@example.fr[/]":
        'Examples: [bold]sarapay config set-smtp smtp.example.fr:587 --user rappels@example.fr --from rappels@example.fr --password[/] (hidden input, keyring) · cron: [bold]sarapay config set-smtp smtp.example.fr --user rappels@example.fr --from rappels@example.fr[/] (with SARAPAY_SMTP_PASSWORD in the environment) · local relay: [bold]sarapay config set-smtp 127.0.0.1:25 --no-starttls --from rappels@example.fr[/]',
    "Serveur d'envoi (port 587 par défaut).":
        'Mail server (port 587 by default).',
    "Identifiant de connexion (sans lui : pas d'authentification).":
        'Login (without it: no authentication).',
    'Chiffre la connexion (STARTTLS, par défaut). --no-starttls seulement pour un relais sur cette machine.':
        'Encrypts the connection (STARTTLS, by default). --no-starttls only for a relay on this machine.',
    "Adresse d'expéditeur des rappels (gardée si omise).":
        'Sender address of the reminders (kept if omitted).',
    "Demande le mot de passe (saisie masquée) et l'enregistre dans le trousseau.":
        'Asks for the password (hidden input) and saves it in the keyring.',
    "Lit le mot de passe sur une ligne de l'entrée standard et l'enregistre dans le trousseau.":
        'Reads the password from one line of standard input and saves it in the keyring.',
    "Affiche le mode, la clé masquée et sa provenance, l'identifiant client, l'adresse de l'API et les chemins.":
        'Shows the mode, the masked key and where it comes from, the client id, the API address and the paths.',
    'Exemples : [bold]sarapay config show[/] · [bold]sarapay --live config show --json[/]':
        'Examples: [bold]sarapay config show[/] · [bold]sarapay --live config show --json[/]',
    'Sortie JSON (clés stables, clé secrète masquée).':
        'JSON output (stable keys, masked secret key).',
    "Affiche le chemin d'un fichier de sarapay (configuration, fichier de clé, registre local, dossier).":
        'Shows the path of a sarapay file (configuration, key file, local ledger, folder).',
    'Exemples : [bold]sarapay config path[/] · [bold]sarapay config path ledger[/] · [bold]cp "$(sarapay config path ledger)" sauvegarde.db[/]':
        'Examples: [bold]sarapay config path[/] · [bold]sarapay config path ledger[/] · [bold]cp "$(sarapay config path ledger)" sauvegarde.db[/]',
    'Le chemin voulu (défaut : config).':
        'The path wanted (default: config).',
    'Le registre : lequel est utilisé (SQLite ou PostgreSQL), son schéma, et sa copie vers un autre.':
        'The ledger: which one is used (SQLite or PostgreSQL), its schema, and copying it to another.',
    'Affiche le registre utilisé (fichier SQLite ou PostgreSQL, adresse masquée), la version du schéma et les étapes en attente, sans rien créer ni modifier.':
        'Shows the ledger in use (SQLite file or PostgreSQL, masked address), the schema version and the pending steps, without creating or changing anything.',
    'Exemples : [bold]sarapay ledger check[/] · [bold]sarapay ledger check --json[/]':
        'Examples: [bold]sarapay ledger check[/] · [bold]sarapay ledger check --json[/]',
    'Sortie JSON (adresse masquée).':
        'JSON output (masked address).',
    "Copie tout le registre utilisé (journal d'audit compris) dans un registre vide, en une transaction, puis vérifie chaque table (nombre de lignes, somme de contrôle). La source ne change pas.":
        'Copies the whole ledger in use (audit log included) into an empty ledger, in one transaction, then checks each table (row count, checksum). The source does not change.',
    "Exemples : [bold]sarapay ledger copy --to postgresql://sarapay@db.example/sarapay[/] (vers l'équipe) · [bold]sarapay ledger copy --to sauvegarde.db[/] (une copie SQLite, depuis PostgreSQL aussi).":
        'Examples: [bold]sarapay ledger copy --to postgresql://sarapay@db.example/sarapay[/] (to the team) · [bold]sarapay ledger copy --to sauvegarde.db[/] (an SQLite copy, from PostgreSQL too).',
    'Une adresse postgresql://… (base vide) ou un fichier SQLite à créer.':
        'A postgresql://… address (empty database) or an SQLite file to create.',
    'Sortie JSON : lignes et somme de contrôle par table.':
        'JSON output: rows and checksum per table.',
    "Préférences des praticiens : maximum par défaut d'une téléconsultation, langue des e-mails de rappel.":
        "Practitioners' preferences: default maximum of a teleconsultation, language of reminder e-mails.",
    "Fixe le maximum par défaut d'une téléconsultation pour un praticien (le montant annoncé au patient).\n\nUne consultation peut être planifiée pour moins, jamais pour plus. À partir de 70 €, une information écrite préalable du patient est requise : sarapay le rappelle.":
        "Sets a practitioner's default maximum for a teleconsultation (the amount announced to the patient).\n\nA consultation can be planned for less, never for more. From 70 €, prior written information of the patient is required: sarapay reminds you.",
    'Exemple : [bold]sarapay prefs set-max 10000000017 30[/] (ou « 25,50 », « 25.50 € »)':
        'Example: [bold]sarapay prefs set-max 10000000017 30[/] (or « 25,50 », « 25.50 € »)',
    'Numéro RPPS du praticien (déjà enregistré par sarapay link).':
        "The practitioner's RPPS number (already recorded by sarapay link).",
    'En euros : 25, 25,50, 25.50 ou 25,50 € (de 0,50 € à 500,00 €).':
        'In euros: 25, 25,50, 25.50 or 25,50 € (from 0.50 € to 500.00 €).',
    'Sortie JSON (montants en centimes).':
        'JSON output (amounts in cents).',
    "Fixe la langue des e-mails envoyés au praticien (rappels d'empreintes à capturer) : français par défaut, ou anglais.":
        'Sets the language of e-mails sent to the practitioner (reminders of holds to capture): French by default, or English.',
    'Exemples : [bold]sarapay prefs set-lang 10000000017 en[/] · [bold]sarapay prefs set-lang 10000000017 fr[/] (défaut)':
        'Examples: [bold]sarapay prefs set-lang 10000000017 en[/] · [bold]sarapay prefs set-lang 10000000017 fr[/] (default)',
    'fr (français, par défaut) ou en (anglais).':
        'fr (French, the default) or en (English).',
    'Sortie JSON.':
        'JSON output.',
    'Affiche les praticiens enregistrés : RPPS, nom, e-mail (masqué), compte Stripe, mode de liaison, maximum par défaut, langue des e-mails.':
        'Shows the recorded practitioners: RPPS, name, e-mail (masked), Stripe account, link mode, default maximum, e-mail language.',
    'Exemples : [bold]sarapay prefs show[/] · [bold]sarapay prefs show 10000000017 --json[/]':
        'Examples: [bold]sarapay prefs show[/] · [bold]sarapay prefs show 10000000017 --json[/]',
    'Un seul praticien (sinon tous).':
        'A single practitioner (otherwise all).',
    'Sortie JSON : e-mails en clair, montants en centimes, heures ISO 8601 UTC.':
        'JSON output: e-mails in clear, amounts in cents, ISO 8601 UTC times.',
    "Le bac à sable local compatible Stripe : le servir, jouer le patient ou le praticien, avancer l'horloge.":
        'The local Stripe-compatible sandbox: serve it, play the patient or the practitioner, move the clock forward.',
    "Sert le bac à sable Stripe local jusqu'à Ctrl-C.":
        'Serves the local Stripe sandbox until Ctrl-C.',
    'Exemple : sarapay sandbox serve --port 12111 --state ~/sandbox.json':
        'Example: sarapay sandbox serve --port 12111 --state ~/sandbox.json',
    "Port d'écoute sur 127.0.0.1 (0 : un port libre).":
        'Listening port on 127.0.0.1 (0: a free port).',
    "Fichier où garder l'état entre deux lancements.":
        'File where the state is kept between two runs.',
    'Délai ajouté à chaque requête (ms).':
        'Delay added to each request (ms).',
    'Joue le patient : remplit la page de paiement de la consultation avec une carte de test.':
        "Plays the patient: fills in the consultation's payment page with a test card.",
    "Exemples : sarapay sandbox pay TC-8F3K2Q · sarapay sandbox pay TC-8F3K2Q --card '4000 0000 0000 0002'":
        "Examples: sarapay sandbox pay TC-8F3K2Q · sarapay sandbox pay TC-8F3K2Q --card '4000 0000 0000 0002'",
    'Carte de test : 4242… acceptée, 4000 0000 0000 0002 refusée, 4000 0000 0000 9995 fonds insuffisants, 4000 0000 0000 0259 acceptée puis contestée (fraude) une fois capturée.':
        'Test card: 4242… accepted, 4000 0000 0000 0002 declined, 4000 0000 0000 9995 insufficient funds, 4000 0000 0000 0259 accepted then disputed (fraud) once captured.',
    "Joue le praticien : accepte la page d'autorisation OAuth et affiche la commande « sarapay link RPPS --code … --state … » qui termine la liaison.":
        'Plays the practitioner: accepts the OAuth authorisation page and shows the « sarapay link RPPS --code … --state … » command that finishes the linking.',
    "Exemple : sarapay sandbox consent 'http://127.0.0.1:12111/oauth/authorize?…' (l'adresse qu'affiche sarapay link RPPS --email E-MAIL)":
        "Example: sarapay sandbox consent 'http://127.0.0.1:12111/oauth/authorize?…' (the address shown by sarapay link RPPS --email E-MAIL)",
    "L'adresse d'autorisation affichée par « sarapay link RPPS --email … ».":
        'The authorisation address shown by « sarapay link RPPS --email … ».',
    "Avance l'horloge du bac à sable (expiration des empreintes et des liens, versements).":
        'Moves the sandbox clock forward (expiry of holds and links, payouts).',
    'Exemples : sarapay sandbox advance 8d · sarapay sandbox advance 1h30m':
        'Examples: sarapay sandbox advance 8d · sarapay sandbox advance 1h30m',
    'Durée : 30m, 48h, 8d (ou 8j), 1h30m.':
        'Duration: 30m, 48h, 8d (or 8j), 1h30m.',
    "Les événements Stripe appliqués au registre dès qu'ils arrivent : créer le point de réception, le servir.":
        'Stripe events applied to the ledger as soon as they arrive: create the endpoint, serve it.',
    "Crée sur Stripe le point de réception Connect des événements dont sarapay a besoin, et range son secret de signature comme la clé d'API (jamais affiché).":
        'Creates on Stripe the Connect endpoint for the events sarapay needs, and stores its signing secret like the API key (never shown).',
    'Exemple : sarapay webhooks register https://paiements.example.fr/webhooks/stripe --file (un serveur sans trousseau : le secret dans un fichier 0600)':
        'Example: sarapay webhooks register https://paiements.example.fr/webhooks/stripe --file (a server without a keyring: the secret in a 0600 file)',
    'Adresse https publique du récepteur (derrière le proxy TLS), chemin /webhooks/stripe.':
        'Public https address of the receiver (behind the TLS proxy), path /webhooks/stripe.',
    'Ranger le secret dans un fichier 0600 (SARAPAY_WEBHOOK_SECRET_FILE ou le dossier de sarapay) plutôt que dans le trousseau.':
        "Store the secret in a 0600 file (SARAPAY_WEBHOOK_SECRET_FILE or sarapay's folder) rather than in the keyring.",
    "Reçoit les événements Stripe (POST /webhooks/stripe), vérifie leur signature et les applique au registre une seule fois ; GET /healthz pour la supervision. Tourne jusqu'à SIGTERM.":
        'Receives Stripe events (POST /webhooks/stripe), checks their signature and applies them to the ledger exactly once; GET /healthz for monitoring. Runs until SIGTERM.',
    "Exemple : sarapay webhooks serve --port 8765 (derrière nginx ou Caddy qui termine TLS ; unité systemd dans le README). Journal : une ligne JSON par événement sur la sortie d'erreur.":
        'Example: sarapay webhooks serve --port 8765 (behind nginx or Caddy terminating TLS; systemd unit in the README). Log: one JSON line per event on standard error.',
    "Adresse d'écoute (127.0.0.1 : seul le proxy local y accède).":
        'Listening address (127.0.0.1: only the local proxy reaches it).',
    "Port d'écoute (0 : un port libre).":
        'Listening port (0: a free port).',
}


# Value words of the usage line and the options (`CONSULTATION [MONTANT]`, `--at DATE`).
METAVARS_EN = {
    "NOM": "NAME", "COMPTE": "ACCOUNT", "MONTANT": "AMOUNT", "RÉF": "REF", "CARTE": "CARD", "FICHIER": "FILE",
    "HÔTE": "HOST", "TEXTE": "TEXT", "DURÉE": "DURATION", "CHEMIN": "PATH",
}


def english(name: str, text: str) -> str:
    """The English of a French help text (`name`: which attribute it is: help, epilog, metavar...); the French
    text itself when it has no translation yet."""
    if name == "metavar":
        return METAVARS_EN.get(text, text)
    return HELP_EN.get(text, text)
