"""What the clinic workspace's home page lists under "Needs attention": each line a count and the list behind it,
only for what the person may see. Clinicians open the workspace to find who needs them; the app list below it
is for everything else."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from recovery import summaries
from recovery.admin.filters import ClearanceFilter, InactiveFilter, LastWeekFilter, MyPatientsFilter, OpenAlertsFilter
from recovery.models import Alert, RecoveryPlan, SafetyThresholds, Tip


@dataclass(frozen=True)
class Attention:
    label: str
    count: int
    url: str
    urgent: bool = False  # drawn as a red badge while the count is not zero


def needs_attention(user, today):
    """The lines of the panel for ``user`` on ``today``, most pressing first (seven queries at most)."""
    lines = []
    if user.has_perm("recovery.view_alert"):
        alerts = reverse("admin:recovery_alert_changelist")
        counts = Alert.objects.open().aggregate(
            total=Count("pk"), urgent=Count("pk", filter=Q(severity=Alert.Severity.URGENT))
        )
        lines += [
            Attention(
                "Urgent alerts not yet acknowledged",
                counts["urgent"],
                f"{alerts}?state=open&severity__exact={Alert.Severity.URGENT}",
                urgent=True,
            ),
            Attention("All alerts not yet acknowledged", counts["total"], f"{alerts}?state=open"),
        ]
    if user.has_perm("recovery.view_recoveryplan"):
        plans = reverse("admin:recovery_recoveryplan_changelist")
        mine = RecoveryPlan.objects.filter(clinician=user)
        if mine.exists():
            with_alerts = mine.filter(alerts__acknowledged_at__isnull=True, alerts__isnull=False).distinct().count()
            lines.append(
                Attention(
                    "My patients with open alerts",
                    with_alerts,
                    f"{plans}?{MyPatientsFilter.query()}&{OpenAlertsFilter.query()}",
                )
            )
        thresholds = SafetyThresholds.current()
        behind = summaries.LAST_WEEK_BANDS[0]
        counts = RecoveryPlan.objects.aggregate(  # one pass over the plans for the four counts
            inactive=Count("pk", filter=summaries.inactive_q(today, thresholds)),
            behind=Count("pk", filter=summaries.last_week_band_q(behind[0], today)),
            due=Count("pk", filter=summaries.due_for_clearance_q(today)),
            paused=Count("pk", filter=Q(status=RecoveryPlan.Status.PAUSED)),
        )
        days = thresholds.inactive_after_days
        label = f"Patients with nothing logged for {days} day{'s' if days != 1 else ''} or more"
        lines += [
            Attention(label, counts["inactive"], f"{plans}?{InactiveFilter.query()}"),
            Attention(
                f"Patients with {behind[1].lower()} of their tasks done in the 7 days to yesterday",
                counts["behind"],
                f"{plans}?{LastWeekFilter.query(behind[0])}",
            ),
            Attention(
                "Patients due for their return-to-running sign-off",
                counts["due"],
                f"{plans}?{ClearanceFilter.query()}",
            ),
            # A pause that nobody ends leaves a patient waiting: the plans on hold, to be resumed or discharged.
            Attention(
                "Plans on hold (paused)", counts["paused"], f"{plans}?status__exact={RecoveryPlan.Status.PAUSED}"
            ),
        ]
    if user.has_perm("recovery.view_tip"):
        flagged = Tip.objects.exclude(review_note="").count()
        tips = reverse("admin:recovery_tip_changelist")
        lines.append(Attention("Tips flagged for review", flagged, f"{tips}?review=flagged"))
    return lines
