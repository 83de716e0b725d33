"""The text of each kind of e-mail, in English, French and Spanish.

Each text is a `str.format` pattern over the fields its caller gives; a recipient whose language
has no text gets the English one.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "fr", "es")

# kind -> language -> (subject, body)
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "submission.returned": {
        "en": (
            "{convention} report of {party} returned ({cycle})",
            "Hello {name},\n\n"
            "The {convention} secretariat returned version {version} of the report of {party} "
            "for {cycle}. Their reason:\n\n{reason}\n\n"
            "Amend the report in its workspace and submit it again:\n{link}\n",
        ),
        "fr": (
            "Rapport {convention} de {party} renvoyé ({cycle})",
            "Bonjour {name},\n\n"
            "Le secrétariat de la {convention} a renvoyé la version {version} du rapport de "
            "{party} pour {cycle}. Motif :\n\n{reason}\n\n"
            "Modifiez le rapport dans son espace de travail et soumettez-le à nouveau :\n{link}\n",
        ),
        "es": (
            "Informe {convention} de {party} devuelto ({cycle})",
            "Hola {name}:\n\n"
            "La secretaría de la {convention} devolvió la versión {version} del informe de "
            "{party} para {cycle}. Motivo:\n\n{reason}\n\n"
            "Modifique el informe en su espacio de trabajo y vuelva a presentarlo:\n{link}\n",
        ),
    },
    "submission.accepted": {
        "en": (
            "{convention} report of {party} accepted ({cycle})",
            "Hello {name},\n\n"
            "The {convention} secretariat accepted version {version} of the report of {party} "
            "for {cycle}.{note}\n\n{link}\n",
        ),
        "fr": (
            "Rapport {convention} de {party} accepté ({cycle})",
            "Bonjour {name},\n\n"
            "Le secrétariat de la {convention} a accepté la version {version} du rapport de "
            "{party} pour {cycle}.{note}\n\n{link}\n",
        ),
        "es": (
            "Informe {convention} de {party} aceptado ({cycle})",
            "Hola {name}:\n\n"
            "La secretaría de la {convention} aceptó la versión {version} del informe de "
            "{party} para {cycle}.{note}\n\n{link}\n",
        ),
    },
    "invitation": {
        "en": (
            "Invitation: {role}",
            "Hello,\n\n{inviter} invites you to the national reporting service of the "
            "biodiversity conventions as {role}. Choose your password here (the link works "
            "once, until {expires}):\n\n{link}\n",
        ),
        "fr": (
            "Invitation : {role}",
            "Bonjour,\n\n{inviter} vous invite au service de rapports nationaux des "
            "conventions sur la biodiversité en tant que {role}. Choisissez votre mot de passe "
            "ici (le lien sert une fois, jusqu'au {expires}) :\n\n{link}\n",
        ),
        "es": (
            "Invitación: {role}",
            "Hola:\n\n{inviter} le invita al servicio de informes nacionales de las "
            "convenciones sobre la biodiversidad como {role}. Elija su contraseña aquí (el "
            "enlace sirve una vez, hasta el {expires}):\n\n{link}\n",
        ),
    },
    "password.reset": {
        "en": (
            "Set a new password",
            "Hello {name},\n\nSomeone (you, we hope) asked to set a new password for your "
            "account. Choose it here (the link works once, until {expires}):\n\n{link}\n\n"
            "If you did not ask, ignore this message: your password stays as it is.\n",
        ),
        "fr": (
            "Choisir un nouveau mot de passe",
            "Bonjour {name},\n\nQuelqu'un (vous, espérons-le) a demandé un nouveau mot de passe "
            "pour votre compte. Choisissez-le ici (le lien sert une fois, jusqu'au {expires}) :"
            "\n\n{link}\n\nSi ce n'est pas vous, ignorez ce message : votre mot de passe ne "
            "change pas.\n",
        ),
        "es": (
            "Elegir una nueva contraseña",
            "Hola {name}:\n\nAlguien (usted, esperamos) pidió una nueva contraseña para su "
            "cuenta. Elíjala aquí (el enlace sirve una vez, hasta el {expires}):\n\n{link}\n\n"
            "Si no fue usted, ignore este mensaje: su contraseña no cambia.\n",
        ),
    },
    "deadline.reminder": {
        "en": (
            "{convention} report of {party} due in {days} day(s) ({cycle})",
            "Hello {name},\n\nThe {convention} report of {party} for {cycle} is due on "
            "{due_on} and has not been submitted yet.\n\n{link}\n",
        ),
        "fr": (
            "Rapport {convention} de {party} attendu dans {days} jour(s) ({cycle})",
            "Bonjour {name},\n\nLe rapport {convention} de {party} pour {cycle} est attendu le "
            "{due_on} et n'a pas encore été soumis.\n\n{link}\n",
        ),
        "es": (
            "Informe {convention} de {party}: vence en {days} día(s) ({cycle})",
            "Hola {name}:\n\nEl informe {convention} de {party} para {cycle} vence el "
            "{due_on} y aún no se ha presentado.\n\n{link}\n",
        ),
    },
}

TEXTS["deadline.past_due"] = {
    "en": (
        "{convention} report of {party} is past due ({cycle})",
        "Hello {name},\n\nThe {convention} report of {party} for {cycle} was due on {due_on} "
        "and has not been submitted. Submit it as soon as you can:\n\n{link}\n",
    ),
    "fr": (
        "Rapport {convention} de {party} en retard ({cycle})",
        "Bonjour {name},\n\nLe rapport {convention} de {party} pour {cycle} était attendu le "
        "{due_on} et n'a pas été soumis. Soumettez-le dès que possible :\n\n{link}\n",
    ),
    "es": (
        "Informe {convention} de {party} vencido ({cycle})",
        "Hola {name}:\n\nEl informe {convention} de {party} para {cycle} vencía el {due_on} "
        "y no se ha presentado. Preséntelo lo antes posible:\n\n{link}\n",
    ),
}

TEXTS["assignment"] = {
    "en": (
        "A section of the report of {party} for you: {section}",
        "Hello {name},\n\n{assigner} asks you to fill this section of the national report of "
        "{party}:\n\n{section}\n\nOpen it here, and mark it ready for review when it is "
        "done:\n{link}\n",
    ),
    "fr": (
        "Une section du rapport de {party} pour vous : {section}",
        "Bonjour {name},\n\n{assigner} vous demande de remplir cette section du rapport "
        "national de {party} :\n\n{section}\n\nOuvrez-la ici, et marquez-la prête pour "
        "relecture une fois terminée :\n{link}\n",
    ),
    "es": (
        "Una sección del informe de {party} para usted: {section}",
        "Hola {name}:\n\n{assigner} le pide completar esta sección del informe nacional de "
        "{party}:\n\n{section}\n\nÁbrala aquí y márquela lista para revisión cuando esté "
        "terminada:\n{link}\n",
    ),
}

TEXTS["comment"] = {
    "en": (
        "New comment on the {convention} report of {party} ({cycle}){about}",
        "Hello {name},\n\n{author} commented on version {version} of the {convention} report "
        "of {party} for {cycle}{about}:\n\n{body}\n\n{link}\n",
    ),
    "fr": (
        "Nouveau commentaire sur le rapport {convention} de {party} ({cycle}){about}",
        "Bonjour {name},\n\n{author} a commenté la version {version} du rapport {convention} "
        "de {party} pour {cycle}{about} :\n\n{body}\n\n{link}\n",
    ),
    "es": (
        "Nuevo comentario sobre el informe {convention} de {party} ({cycle}){about}",
        "Hola {name}:\n\n{author} comentó la versión {version} del informe {convention} de "
        "{party} para {cycle}{about}:\n\n{body}\n\n{link}\n",
    ),
}

ABOUT = {
    "en": " — question {question}",
    "fr": " — question {question}",
    "es": " — pregunta {question}",
}

NOTES = {
    "en": "\n\nThe secretariat's note:\n\n{comment}",
    "fr": "\n\nNote du secrétariat :\n\n{comment}",
    "es": "\n\nNota de la secretaría:\n\n{comment}",
}


ROLES = {
    "en": {
        "focal_point": "national focal point of {party} for {convention}",
        "secretariat": "member of the {convention} secretariat",
        "admin": "administrator",
        "reviewer": "reviewer",
        "contributor": "contributor to the national reports of {party}",
    },
    "fr": {
        "focal_point": "correspondant national de {party} pour la {convention}",
        "secretariat": "membre du secrétariat de la {convention}",
        "admin": "administrateur",
        "reviewer": "relecteur",
        "contributor": "contributeur aux rapports nationaux de {party}",
    },
    "es": {
        "focal_point": "coordinador nacional de {party} para la {convention}",
        "secretariat": "miembro de la secretaría de la {convention}",
        "admin": "administrador",
        "reviewer": "revisor",
        "contributor": "colaborador de los informes nacionales de {party}",
    },
}


def role_phrase(language: str, role: str, *, convention: str | None, party: str | None) -> str:
    """A role, its convention and Party in words of the recipient's language."""
    return ROLES[language_of(language)][role].format(convention=convention, party=party)


def language_of(language: str | None) -> str:
    """The language a message is written in: the recipient's if there are texts in it."""
    return language if language in LANGUAGES else "en"


def render(kind: str, language: str, fields: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a message of this kind in this language."""
    subject, body = TEXTS[kind][language_of(language)]
    return subject.format(**fields), body.format(**fields)


def about(language: str, question: str | None) -> str:
    """The question a comment is about, in the recipient's language (empty for none)."""
    return ABOUT[language_of(language)].format(question=question) if question else ""


def note(language: str, comment: str | None) -> str:
    """The secretariat's optional note on an acceptance, in the recipient's language."""
    return NOTES[language_of(language)].format(comment=comment) if comment else ""
