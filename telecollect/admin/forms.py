from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from telecollect.auth.labels import ROLE_LABELS

ROLE_CHOICES = [SelectChoice(role, label) for role, label in ROLE_LABELS.items()]
ZONE_CHOICES = [
    SelectChoice("WIB", "WIB (UTC+7)"),
    SelectChoice("WITA", "WITA (UTC+8)"),
    SelectChoice("WIT", "WIT (UTC+9)"),
]


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=64)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=256)])
    timezone = SelectField(_l("Time zone"), choices=ZONE_CHOICES, default="WIB")
    daily_call_target = IntegerField(_l("Daily call target"), validators=[Optional(), NumberRange(1, 1000)])
    agent_phone = StringField(
        _l("Phone for calls"),
        description=_l("The desk line, mobile or sip: address the system rings when this telecollector calls."),
        validators=[Optional(), Length(max=120)],
    )
    is_active = BooleanField(_l("Active"), default=True)
    areas = SelectMultipleField(_l("Cadre areas"), choices=[], validate_choice=True)
    #: Filled per request: the branches and deputy regions the administrator may choose (issue 16).
    branch = SelectField(_l("Branch"), choices=[], validate_choice=True, default="")
    deputy_region = SelectField(_l("Regional deputy"), choices=[], validate_choice=True, default="")
    is_installation_admin = BooleanField(_l("Installation administrator (every branch)"), default=False)
