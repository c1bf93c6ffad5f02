from recovery.models.checkins import Alert, CheckIn
from recovery.models.content import Disclaimer, Gate, Phase, Protocol, ProtocolStep, SafetyThresholds, Tip
from recovery.models.plans import Completion, ExcusedDay, PlanStep, RecoveryPlan

__all__ = [
    "Alert",
    "CheckIn",
    "Completion",
    "Disclaimer",
    "ExcusedDay",
    "Gate",
    "Phase",
    "PlanStep",
    "Protocol",
    "ProtocolStep",
    "RecoveryPlan",
    "SafetyThresholds",
    "Tip",
]
