"""The clinic's tip sheet, as patients read it."""

from django.shortcuts import get_object_or_404, render

from recovery.models import Disclaimer, Tip
from recovery.views.access import patient_required


@patient_required
def tip_list(request):
    tips = Tip.objects.published()
    context = {
        "recovery_tips": [tip for tip in tips if tip.kind == Tip.Kind.RECOVERY],
        "prevention_tips": [tip for tip in tips if tip.kind == Tip.Kind.PREVENTION],
        "disclaimer": Disclaimer.current(),
    }
    return render(request, "recovery/tip_list.html", context)


@patient_required
def tip_detail(request, slug):
    tip = get_object_or_404(Tip.objects.published(), slug=slug)
    return render(request, "recovery/tip_detail.html", {"tip": tip, "disclaimer": Disclaimer.current()})
