"""A day far quieter than its recent days waits for a person's decision in the Airflow UI.

The source's ``validate`` task reports a stream under its ``min_volume_ratio``
(``liftoff.validate.volume``); this task then asks, as Airflow's human-in-the-loop approval
(*Required Actions*, and the alert links it): *Approve* and the day goes on to silver and gold;
*Reject* and the task fails with the reason given; no decision in ``WAIT_HOURS`` and it fails
too. A day within its volume, or a run with ``accept_low_volume``, is not asked. Under
``liftoff run`` (``airflow dags test``, setting ``approvals`` off) nobody could answer: the
day fails at once, naming ``--accept-low-volume``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from liftoff.transform.ordering import WAIT_HOURS

REASON = "reason"
WHAT_TO_CHECK = (
    "Check the source first (the API's own count for the day, a changed filter, an export cut"
    " short): a broken upstream looks like a quiet day."
)


class LowVolumeApprovalOperator(ApprovalOperator):
    """Ask a person whether ``source``'s quiet day goes on; ``validated``: the validate task's
    results (an XComArg), whose streams with a ``volume_drop`` are the question."""

    template_fields = (*ApprovalOperator.template_fields, "validated")

    def __init__(self, *, source: str, validated: Any, **kwargs) -> None:
        super().__init__(
            subject=f"{source}: a day far quieter than usual",
            response_timeout=timedelta(hours=WAIT_HOURS),
            params={
                REASON: Param(
                    "",
                    type="string",
                    title="Reason",
                    description="Why you approve or reject the day: kept in the task's log (and in"
                    " the failure, on a rejection).",
                )
            },
            **kwargs,
        )
        self.source = source
        self.validated = validated

    def drops(self) -> list[str]:
        return [
            result["volume_drop"] for result in (self.validated or {}).values() if result.get("volume_drop")
        ]

    def execute(self, context):
        from liftoff.config import get_settings

        drops = self.drops()
        if not drops:
            self.log.info(
                "every stream of %s is within its min_volume_ratio: nothing to approve", self.source
            )
            return None
        day = context["dag_run"].data_interval_start.date().isoformat()
        if not get_settings().approvals:
            raise AirflowFailException(
                f"{'; '.join(drops)}: nobody can approve it under `liftoff run`; if the day really was"
                " this quiet, rerun it with --accept-low-volume"
            )
        self.subject = f"{self.source} {day}: a day far quieter than usual: go on to silver and gold?"
        self.body = "\n\n".join(
            [
                *(f"- {drop}" for drop in drops),
                WHAT_TO_CHECK,
                "**Approve**: the day goes on to silver and gold. **Reject**: the day fails with your reason."
                f" No decision in {WAIT_HOURS} hours: the day fails.",
            ]
        )
        self._alert(context, day, drops)
        return super().execute(context)

    def _alert(self, context, day: str, drops: list[str]) -> None:
        from liftoff.notifiers.alerts import approval_alert, deliver

        try:
            link = self.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url: the task's log page still leads there
            link = context["ti"].log_url
        deliver(approval_alert(context, self.source, day, drops, link, WAIT_HOURS))

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        day = context["dag_run"].data_interval_start.date().isoformat()
        if event.get("error_type") == "timeout":
            raise AirflowFailException(
                f"{self.source} {day}: nobody approved or rejected the quiet day within {WAIT_HOURS} hours;"
                " rerun it with accept_low_volume if it really was this quiet"
            )
        # the answer checked and recorded as any HITL task's; not ApprovalOperator's own step,
        # which skips what follows on a rejection where this day must fail
        answer = HITLOperator.execute_complete(self, context, event)
        chosen, params = answer["chosen_options"], answer["params_input"]
        who = (answer["responded_by_user"] or {}).get("name") or "nobody (the default)"
        reason = str(params.get(REASON) or "").strip() or "no reason given"
        if chosen == [self.APPROVE]:
            self.log.info("%s %s: the quiet day was approved by %s: %s", self.source, day, who, reason)
            return {"approved": True, "by": who, "reason": reason}
        raise AirflowFailException(f"{self.source} {day}: the quiet day was rejected by {who}: {reason}")
