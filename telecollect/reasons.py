"""Why a value, a row or a file is refused: a code with parameters, put into words where it is shown.

Parsers and services raise `Refusal(code, **params)`; the page, the CLI and the
rejects file turn it into text with `describe`, in the language of whoever
reads it (Bahasa Indonesia by default). Tests compare codes, not sentences.
Every code a parser may raise has its sentence here, so a new reason is one
line in this table and one in the Indonesian catalog.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

#: code → sentence with %(name)s parameters. Values a user wrote arrive quoted (see `quoted`).
REASONS = {
    # How a row's reason is introduced
    "row_reason": _l("row %(line)s: %(reason)s"),
    "row_column_reason": _l("row %(line)s, %(column)s: %(reason)s"),
    # Any column
    "required": _l("required"),
    "too_long": _l("longer than %(max)s characters"),
    "extra_values": _l("more values than the header has columns (check the delimiter)"),
    "whole_number": _l("expected a whole number, got %(value)s"),
    "number_range": _l("must be %(low)s–%(high)s, got %(number)s"),
    "number_min": _l("must be %(low)s or more, got %(number)s"),
    "yes_no": _l("expected yes/no, ya/tidak, 1/0 or true/false, got %(value)s"),
    "iso_date": _l("expected a date as YYYY-MM-DD, got %(value)s"),
    "future_date": _l("%(day)s is in the future"),
    "choice": _l("expected one of %(choices)s, got %(value)s"),
    "neighbourhood_unit": _l("expected up to 3 digits, got %(value)s"),
    # Identifiers
    "card_no_digits": _l("card number must be exactly 13 digits, got %(value)s"),
    "card_no_repeated": _l("card number %(card_no)s appears more than once in the file"),
    "card_or_family_required": _l("required (or family_id)"),
    "nik_digits": _l("NIK must be exactly 16 digits, got %(value)s"),
    "nik_number_cell": _l(
        "NIK %(value)s is stored as a number, and a spreadsheet number keeps only 15 digits, "
        "so its digits cannot be trusted: format the NIK column as text and export again"
    ),
    # Payments
    "reference_repeated": _l("reference %(reference)s appears more than once in the file"),
    "reference_taken": _l("reference %(reference)s is already used by another payment"),
    "payer_unknown": _l("no participant or family %(key)s"),
    # Money (telecollect.money)
    "amount_format": _l("expected whole Rupiah like 1.500.000, got %(value)s"),
    "amount_fraction": _l("%(value)s has a part below one Rupiah; amounts are whole Rupiah"),
    "amount_negative": _l("%(value)s is negative; write the amount without a minus sign or brackets"),
    "amount_too_large": _l("%(value)s is larger than the largest amount accepted (%(limit)s)"),
    "amount_not_positive": _l("must be more than 0, got %(value)s"),
    # Phones (telecollect.phones)
    "phone_invalid": _l("not a valid Indonesian mobile number"),
    "phone_not_indonesian": _l("not an Indonesian number"),
    "phone_characters": _l("%(value)s contains characters a phone number cannot have"),
    "phone_number_cell": _l(
        "%(value)s looks like a spreadsheet number, not a phone number: "
        "format the phone column as text and export again"
    ),
    "phone_two_numbers": _l("%(value)s holds more than one number; put the second one in the phone2 column"),
    # Contact settings (telecollect.policy.services)
    "calling_hours_format": _l("calling hours look like 08:00-20:00, opening before closing; got %(value)s"),
    "calling_days_format": _l("calling days are mon…sun as a range or a list, like mon-sat; got %(value)s"),
    # Places
    "province_unknown": _l("unknown province %(value)s"),
    "place_ambiguous": _l(
        "%(level)s %(value)s matches %(count)s places: %(places)s; write the full name or the kelurahan_code"
    ),
    "place_new_refused": _l("%(level)s %(value)s is not a known place, and new places are refused"),
    "village_code_format": _l("expected a 10-digit Kemendagri code like 31.72.01.1001, got %(value)s"),
    "village_code_unknown": _l("kelurahan code %(value)s is not a known village; import the region list first"),
    "village_code_elsewhere": _l(
        "kelurahan code %(value)s is %(village)s in %(district)s, not in kecamatan %(kecamatan)s"
    ),
    "village_code_name": _l("kelurahan code %(value)s is %(village)s, but the kelurahan column says %(name)s"),
    # Region lists (telecollect.regions.importing)
    "file_encoding": _l('line %(line)s is not UTF-8 text: save the file as "CSV UTF-8" and import it again'),
    "region_not_kemendagri": _l(
        "%(count)s row(s) contradict the Kemendagri code list (Kepmendagri 300.2.2-2138/2025): "
        "this looks like a list with other codes, such as the statistics bureau's (BPS). "
        "Nothing was imported; use the Kemendagri list"
    ),
    "region_province_column": _l("%(code)s is in %(official)s, the province column says %(name)s"),
    "file_empty": _l("the file holds no rows to import"),
    "region_code_format": _l("expected a Kemendagri code of 2, 4, 6 or 10 digits, got %(value)s"),
    "region_name_missing": _l("the name is missing"),
    "region_code_repeated": _l("code %(code)s is also on line %(other)s"),
    "region_province_unknown": _l("%(code)s is not one of the 38 province codes"),
    "region_province_name": _l("province %(code)s is %(official)s in the Kemendagri list, the file says %(name)s"),
    "region_city_unknown": _l("%(code)s is not a regency or city code in the Kemendagri list"),
    "region_city_name": _l("%(code)s is %(official)s in the Kemendagri list, the file says %(name)s"),
    "region_parent_missing": _l("the parent of %(code)s (%(parent)s) is neither in the file nor known"),
    # Requests a service refuses (telecollect.errors.ServiceError); a refused value is "label: reason"
    "labelled": _l("%(label)s: %(reason)s"),
    "field_promise_amount": _l("Promised amount"),
    "field_min_amount": _l("Minimum amount"),
    "invalid_json": _l("Send a JSON object."),
    "invalid_date": _l("`on` must be a date as YYYY-MM-DD."),
    # Accounts and areas (auth)
    "bad_username": _l("Username: 3–64 lower-case letters, digits, dot, dash or underscore."),
    "username_taken": _l("Username %(username)s is already taken."),
    "unknown_area_code": _l("No kecamatan or kelurahan has code %(code)s."),
    "unknown_area": _l("No kecamatan or kelurahan is named %(name)s."),
    "ambiguous_area": _l(
        "%(name)s names %(count)d places; write 'Kec. NAME' or 'Kel. NAME', or use the Kemendagri code."
    ),
    "unknown_area_id": _l("Unknown area %(area)s."),
    "areas_for_cadres": _l("Only cadres have areas."),
    "bad_role": _l("Role must be one of: %(roles)s."),
    "bad_timezone": _l("Time zone must be WIB, WITA or WIT."),
    "short_password": _l("Password: at least %(n)d characters."),
    # Work items and queues
    "work_item_not_found": _l("No work item %(item_id)s."),
    "participant_not_found": _l("No participant with this card number."),
    "forbidden_supervisors_do_not_work": _l("Supervisors and admins do not record contacts."),
    "forbidden_call_queue_only": _l("Telecollectors work the call queue only."),
    "no_queue": _l("Only telecollectors and cadres work a queue."),
    "wrong_queue": _l("%(username)s does not work the %(queue)s queue."),
    "bad_segment": _l("Segment must be PBPU, BP, PPU or PBI."),
    "bad_bucket": _l("Bucket must be one of %(buckets)s."),
    "unknown_place": _l("No place is named %(value)s."),
    "no_users": _l("Choose at least one person to share the pool with."),
    "claim_lost": _l("This family is no longer claimed by you; press Next."),
    "not_claimed": _l("You have not claimed this family."),
    # Outcomes (contacts)
    "invalid_outcome": _l("Unknown outcome."),
    "invalid_channel": _l("Channel must be one of: %(allowed)s."),
    "note_too_long": _l("The note is longer than 1000 characters."),
    "client_ref_too_long": _l("client_ref is longer than 64 characters."),
    "promise_date_required": _l("A promise needs its date (YYYY-MM-DD)."),
    "promise_date_out_of_range": _l("The promise date must be between today and %(days)d days ahead."),
    "promise_amount_required": _l("A promise needs an amount in whole Rupiah."),
    "callback_at_required": _l("A callback needs its date and time."),
    "callback_at_out_of_range": _l("The callback must be in the future, within %(days)d days."),
    "callback_outside_hours": _l("The callback falls outside the calling window: %(reason)s."),
    # REHAB plans (programs); the eligibility reasons arrive already worded by the quote
    "plan_exists": _l("This family already has an active plan."),
    "not_eligible": "%(reasons)s",
    "registration_closed": "%(reasons)s",
    "bad_installments": _l("Choose between 2 and %(n)d installments."),
    "bad_start_month": _l("The plan starts this month or next month."),
    # Templates (messaging) and holidays (policy)
    "empty_template": _l("The message cannot be empty."),
    "unknown_variable": _l("Unknown variable(s): %(variables)s."),
    "unknown_template": _l("Unknown template."),
    "bad_holidays": "%(rows)s",
    # The contact policy's refusals (telecollect.policy.rules.Decision)
    "policy_day": _l("no contact on %(day)s"),
    "policy_holiday": _l("national holiday: %(name)s"),
    "policy_hours": _l("outside calling hours %(zone)s"),
    "policy_daily_cap": _l("limit of %(n)d attempts today"),
    "policy_weekly_cap": _l("limit of %(n)d attempts in 7 days"),
    "policy_closed": _l("the family's work is closed"),
    "policy_no_phone": _l("no number that may be contacted on %(channel)s"),
    # REHAB eligibility (telecollect.programs.rules.Quote)
    "rehab_no_program": _l("No installment program is in force on this date."),
    "rehab_registration_days": _l("Registration is open on days 1–%(last)d of the month (1–%(feb)d in February)."),
    "rehab_segment": _l("Segment %(segments)s is not covered: the program is for %(allowed)s."),
    "rehab_months": _l("%(months)d months in arrears: the program takes %(low)d to %(high)d months."),
    # Trust (issue 12): new refusals go in the section of their area below
    # -- sessions and sign-in
    "unauthorized": _l("Sign in, or send a valid API token (Authorization: Bearer …)."),
    "bad_token_days": _l("A token lives from 1 to %(max)s days."),
    "input_out_of_range": _l("A number or date in the request is out of range."),
    "nul_character": _l("The text contains a NUL character (\\0), which is not allowed."),
    # -- outcomes and claims
    "outcome_not_claimed": _l("You do not hold this family: press Next to claim a family before recording."),
    "outcome_claimed_by_other": _l("Another telecollector is working this family: nothing was recorded."),
    "outcome_lease_lapsed": _l("Your claim on this family ran out: nothing was recorded. Press Next to claim again."),
    "outcome_before_listed": _l("This family was not in your list yet when the contact was made."),
    "phone_not_family": _l("This number is not one of the family's numbers."),
    "field_phone": _l("Phone"),
    "recorded_at_invalid": _l("The time the entry was saved is not a valid date and time."),
    "recorded_at_too_old": _l("The entry is more than %(days)d days old and can no longer be recorded."),
    "policy_opt_out": _l("the number asked not to be contacted on %(channel)s"),
    # -- imports and exports
    "control_character": _l("holds a control character (such as a NUL byte); remove it"),
    "as_of_future": _l("%(day)s is too far ahead: an arrears list may be dated %(latest)s at the latest"),
    "date_too_early": _l("%(day)s is before %(earliest)s, when JKN began"),
    "file_missing_columns": _l("missing required column(s): %(columns)s"),
    "file_repeated_columns": _l("column repeated in the header: %(columns)s"),
    "file_too_many_columns": _l("the header has %(count)s columns; a file may have at most %(limit)s"),
    "file_csv_line": _l("line %(line)s: %(problem)s"),
    "file_not_utf8": _l("the file is not UTF-8 text; save it as 'CSV UTF-8' or as .xlsx"),
    "file_xlsx_unreadable": _l("the .xlsx file cannot be opened: %(problem)s"),
    "file_xlsx_too_large": _l(
        "the .xlsx file unpacks to more than %(limit)s MB; split it into smaller files or save it as CSV"
    ),
    "file_references_taken_meanwhile": _l(
        "another payment import recorded %(count)s of this file's references while the file was being "
        "checked, so nothing was imported: import the file again (payments already recorded will count as "
        "unchanged)"
    ),
    "report_date_format": _l("expected a date as YYYY-MM-DD, got %(value)s"),
    "report_range_years": _l("%(day)s is outside the years a report covers (%(low)s–%(high)s)"),
    "report_range_order": _l("the end date is before the start date"),
    "report_range_too_long": _l("a report covers at most %(days)s days; choose a shorter range"),
    # -- messaging
    "sms_decision": _l("Choose 'mark sent' or 'send again'."),
    "sms_not_unknown": _l("This message no longer waits for a decision: it was settled already."),
    # -- disclosure and scoping
    "too_many_reads": _l("Too many families opened in a short time. Try again in %(seconds)s seconds."),
    "too_many_searches": _l("Too many searches in a short time. Try again in %(seconds)s seconds."),
    # -- API and CLI input
    "json_field_type": _l("%(field_name)s must be %(expected)s."),
    "json_field_choice": _l("%(field_name)s must be one of: %(allowed)s."),
    "json_field_required": _l("%(field_name)s is required."),
    "json_field_too_long": _l("%(field_name)s may have at most %(max)d characters."),
    "json_field_too_short": _l("%(field_name)s needs at least %(min)d characters."),
    "json_field_below": _l("%(field_name)s must be at least %(min)d."),
    "json_field_above": _l("%(field_name)s must be at most %(max)d."),
    "json_field_pattern": _l("%(field_name)s is not written in the expected form."),
    "json_field_format": _l("%(field_name)s must be written like %(example)s."),
    # -- issue 13, part A
    "skip_reason_unknown": _l("Choose why this family is skipped."),
    "work_not_now": _l("This family may not be called now: %(reason)s."),
    "heard_number_member": _l("Choose a member of this family for the new number."),
    "heard_number_no_slot": _l("This member already has two valid numbers; ask a supervisor to correct the file."),
    # -- issue 13, part C
    "unknown_user": _l("That person is not on the team."),
    "handout_not_latest": _l("Only the latest assignment can be undone, and only once."),
    "sms_days": _l("The number of days must be written in digits, from 0 to %(max)s (not '%(value)s')."),
    # -- issue 13, part B
    "occurred_at_invalid": _l("The time of the contact is not a valid date and time."),
    "occurred_at_too_old": _l(
        "The contact is more than %(hours)d hours old and can no longer be recorded: "
        "discard it, or tell your supervisor."
    ),
    "occurred_at_in_future": _l(
        "The time of the contact is in the future: check the date and time on your phone, then send it again."
    ),
    # -- issue 13, part D
    "calling_days_none": _l("Tick at least one calling day."),
    # -- issue 14, items 5, 6 and 8 (templates with the virtual account, cadre WhatsApp counters)
    "sms_not_family_number": _l("A family's message goes only to a number registered on that family."),
    "client_ref_required": _l("The entry has no reference: send it again from the app."),
    # -- issue 15, telephony (calls through Twilio Voice, agents' phones and states)
    "pause_reason_unknown": _l("Choose a reason for the pause."),
    "pause_reason_not_paused": _l("Only a pause has a reason."),
    "agent_phone_invalid": _l(
        "The phone for calls must be an Indonesian number (such as +6221… or +62812…) or a sip: address."
    ),
    "agent_phone_missing": _l("You have no phone for calls yet: ask an admin to set it on your user page."),
    "voice_disabled": _l("Calls through the system are not switched on: dial the number by hand."),
    "call_phone_not_in_family": _l("That number is not one of this family's numbers."),
    "call_phone_invalid": _l("That number is marked invalid."),
    "call_phone_opted_out": _l("That number asked not to be called."),
    "call_no_phone": _l("This family has no number that may be called."),
    "call_not_now": _l("This family may not be called now: %(reason)s."),
    "call_in_progress": _l("A call of yours is still in progress: finish it first."),
    "outcome_owed": _l("Record the outcome of your connected call first (family %(family)s)."),
    "call_twilio_refused": _l("Twilio refused the call (error %(code)s): %(message)s"),
    "call_twilio_unreachable": _l("Twilio could not be reached, so the call was not placed. Try again."),
    "call_twilio_unknown": _l("Twilio did not answer in time: the call may ring all the same. Wait a minute."),
    "call_not_closable": _l(
        "Only a connected call whose outcome is missing can be closed, %(minutes)s minutes after it was answered."
    ),
    "call_outcome_other_call": _l("This outcome belongs to another family's call."),
    "recording_missing": _l("This call has no recording, or it was deleted."),
    # -- issue 15, items 5, 6 and 8 (agent states on the desktop, pause reasons, the live board; the self-service line)
    "agent_state_unknown": _l("Choose ready or a pause."),
    "agent_state_in_call": _l("Your state follows your call until it ends and its outcome is recorded."),
    "pause_reason_code_invalid": _l(
        "The code must be 2 to 20 lower-case letters, digits or underscores, starting with a letter."
    ),
    "pause_reason_code_taken": _l("The code %(code)s is already in use."),
    "pause_reason_label_invalid": _l("Write the reason's name (at most 80 characters)."),
    # WhatsApp through Twilio (issue 14, items 1, 2, 4, 7: branch waout).
    "content_sid": _l("%(sid)s is not a Content SID (HX followed by 32 hexadecimal digits)."),
    "content_kind": _l("A telecollector's reply is free text: it has no WhatsApp template."),
    "channel_order": _l("%(value)s is not a channel order: whatsapp and sms, comma-separated, each once."),
    "content_placeholders": _l("The body must number its variables {{1}} to {{%(count)s}}, one for each variable."),
    # Inbound WhatsApp, conversations and their replies (issue 14, items 3 and 9: branch wain).
    "reply_empty": _l("Write the answer first."),
    "reply_too_long": _l("A WhatsApp message holds at most %(limit)s characters."),
    "whatsapp_window_closed": _l(
        "More than 24 hours have passed since the participant's last message: answer with an approved template."
    ),
    "reply_template": _l("That template cannot be used for this answer."),
    "reply_token": _l("The form has expired: open the conversation again."),
    "reply_sent_already": _l("This answer was sent already."),
    # -- issue 16, branches (items 1-3)
    "unknown_branch": _l("There is no branch with the code '%(code)s'."),
    "branch_required": _l("This installation has several branches: name one (--branch CODE)."),
    "branch_code_invalid": _l("A branch code is 1 to 16 letters, digits or dashes (not '%(code)s')."),
    "branch_code_taken": _l("Another branch already has the code '%(code)s'."),
    "branch_name_required": _l("Give the branch a name."),
    "branch_zone_invalid": _l("The zone must be WIB, WITA or WIT (not '%(zone)s')."),
    "deputy_required": _l("Name the regional deputy (Kedeputian Wilayah)."),
    "read_only_role": _l("Your role may look but not change anything."),
    "installation_admin_only": _l("Only an installation administrator may give this role."),
    "branch_setting_unknown": _l("A branch cannot set '%(key)s' for itself."),
    "branch_setting_invalid": _l("'%(value)s' is not a valid value for %(key)s."),
    # -- issue 16, roll-ups (item 5)
    "unknown_deputy": _l("There is no regional deputy with the code or name '%(name)s'."),
    "rollup_branch_and_deputy": _l("Name a branch or a regional deputy, not both."),
    # -- branch pages: a branch's own settings on the settings pages
    "settings_branch_none": _l("Your account belongs to no branch: ask an installation administrator."),
    "holiday_name_required": _l("Give the holiday a name."),
    "holiday_name_long": _l("A holiday's name has at most %(limit)s characters."),
}


#: Day names, Monday first (`date.weekday()`), as a parameter of the policy's reasons.
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday"))


#: Words for the place levels, used as a parameter of the place reasons.
PLACE_LEVELS = {
    "province": _l("province"),
    "city": _l("regency/city"),
    "kecamatan": _l("kecamatan"),
    "kelurahan": _l("kelurahan/desa"),
}


class Refusal(ValueError):
    """A value or row refused for a reason that has a code (see `REASONS`)."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return describe(self.code, self.params)

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.params!r})"


def describe(code: str, params: dict[str, Any]) -> str:
    """The reason in the reader's language; an unknown code is shown as itself, never hidden."""
    sentence = REASONS.get(code)
    if sentence is None:
        return f"{code} {params}" if params else code
    return str(sentence) % params if params else str(sentence)


def quoted(value: object, limit: int = 60) -> str:
    """A value the user wrote, as shown inside a reason: quoted and cut short."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


class ColumnRefusal(ValueError):
    """A refusal that names the column of the row at fault (a place that cannot be settled, say)."""

    def __init__(self, column: str, refusal: Refusal):
        super().__init__(str(refusal))
        self.column = column
        self.refusal = refusal


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of a file: its line, the column at fault (None for the whole row) and why."""

    line: int
    column: str | None
    reason: Refusal

    @property
    def code(self) -> str:
        return self.reason.code

    def __str__(self) -> str:
        if self.column is None:
            return describe("row_reason", {"line": self.line, "reason": str(self.reason)})
        return describe("row_column_reason", {"line": self.line, "column": self.column, "reason": str(self.reason)})
