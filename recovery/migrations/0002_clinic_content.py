"""The clinic's tip sheet, its standing disclaimer, the default safety thresholds and the default protocol.

The tip text is the sheet's, unchanged (docs/apex-hip-recovery-tips.txt). The protocol's day numbers are defaults
drawn from the sources in README.md ("Where the defaults come from"); clinicians change them in the admin.
"""

from django.db import migrations
from django.utils import timezone

TIPS = [
    {
        "slug": "rest-and-recovery",
        "kind": "recovery",
        "position": 1,
        "title": "Rest and Recovery",
        "summary": "Allow your body to heal by itself.",
        "body": "Allow your body to heal by itself. This involves giving up running and other high-impact exercises that "
        "might put stress on your hips. Give your tendons, ligaments, and muscles enough time to heal completely "
        "before you resume training.",
    },
    {
        "slug": "ice-therapy",
        "kind": "recovery",
        "position": 2,
        "title": "Ice Therapy",
        "summary": "Using ice packs on your hip region can help numb pain and reduce inflammation.",
        "body": "Using ice packs on your hip region can help numb pain and reduce inflammation. Use an ice pack several "
        "times a day for 15 to 20 minutes at a time, particularly in the first 48 hours following the marathon.",
    },
    {
        "slug": "compression",
        "kind": "recovery",
        "position": 3,
        "title": "Compression",
        "summary": "You can help your hips heal by reducing swelling and supporting them with compression wraps or "
        "garments.",
        "body": "You can help your hips heal by reducing swelling and supporting them with compression wraps or garments. "
        "If you experience any tingling or numbness, make sure the compression is just right—not too tight—and "
        "take off the compression gear.",
    },
    {
        "slug": "elevate-your-legs",
        "kind": "recovery",
        "position": 4,
        "title": "Elevate Your Legs",
        "summary": "Raising your legs can help decrease hip swelling and enhance blood flow.",
        "body": "Raising your legs can help decrease hip swelling and enhance blood flow. For best results, try to raise "
        "your legs above the level of your heart whenever you’re at rest.",
    },
    {
        "slug": "gentle-stretching",
        "kind": "recovery",
        "position": 5,
        "title": "Gentle Stretching",
        "summary": "To increase hip mobility and flexibility, begin incorporating gentle stretching exercises once the "
        "acute pain has subsided.",
        "body": "To increase hip mobility and flexibility, begin incorporating gentle stretching exercises once the acute "
        "pain has subsided. Concentrate on hamstring, glute, and hip flexor stretches.",
    },
    {
        "slug": "strength-training",
        "kind": "recovery",
        "position": 6,
        "title": "Strength Training",
        "summary": "You can enhance stability and defend future injuries by engaging in exercises that strengthen the "
        "muscles surrounding your hips.",
        "body": "You can enhance stability and defend future injuries by engaging in exercises that strengthen the muscles "
        "surrounding your hips. Include movements in your routine such as clamshells, hip bridges, lunges, and "
        "squats.",
    },
    {
        "slug": "cross-training",
        "kind": "recovery",
        "position": 7,
        "title": "Cross-Training",
        "summary": "To keep up your fitness without straining your hips during your marathon recovery, take into "
        "consideration low-impact aerobic activities like yoga, cycling, or swimming.",
        "body": "To keep up your fitness without straining your hips during your marathon recovery, take into "
        "consideration low-impact aerobic activities like yoga, cycling, or swimming.",
    },
    {
        "slug": "appropriate-nutrition",
        "kind": "recovery",
        "position": 8,
        "title": "Appropriate Nutrition",
        "summary": "Ensure that your body is receiving the nourishment it requires to rebuild and mend muscle tissue.",
        "body": "Ensure that your body is receiving the nourishment it requires to rebuild and mend muscle tissue. Make an "
        "effort to eat a well-balanced diet that includes whole grains, fruits, vegetables, lean protein, and "
        "healthy fats.",
    },
    {
        "slug": "hydration",
        "kind": "recovery",
        "position": 9,
        "title": "Hydration",
        "summary": "Staying properly hydrated is crucial for tissue healing and general recuperation.",
        "body": "Staying properly hydrated is crucial for tissue healing and general recuperation. Drink lots of water to "
        "achieve this.",
    },
    {
        "slug": "listen-to-your-body",
        "kind": "recovery",
        "position": 10,
        "title": "Listen to Your Body",
        "summary": "Throughout the healing process, pay attention to any hip pain or discomfort.",
        "body": "Throughout the healing process, pay attention to any hip pain or discomfort. Avoid pushing through "
        "anything that doesn’t feel right. Allow yourself the time and room you require for a full recovery.",
    },
    {
        "slug": "warming-up-properly",
        "kind": "prevention",
        "position": 1,
        "title": "Warming up properly",
        "summary": "It’s important to warm up your muscles and joints before beginning any kind of physical activity.",
        "body": "It’s important to warm up your muscles and joints before beginning any kind of physical activity. "
        "Mobility exercises, light aerobics, and dynamic stretching can help your muscles acquire more blood flow "
        "and get ready for action.",
    },
    {
        "slug": "strength-training-for-prevention",
        "kind": "prevention",
        "position": 2,
        "title": "Strength Training",
        "summary": "To develop strong muscles and enhance joint stability, include strength training exercises in your "
        "routine.",
        "body": "To develop strong muscles and enhance joint stability, include strength training exercises in your "
        "routine. Exercises that target multiple muscle groups and correct imbalances or weaknesses should be "
        "prioritised, as well as compound movements.",
    },
    {
        "slug": "proper-form-and-technique",
        "kind": "prevention",
        "position": 3,
        "title": "Using proper form and technique",
        "summary": "To lower your risk of injury, use proper form and technique when exercising.",
        "body": "To lower your risk of injury, use proper form and technique when exercising. Consider working with a "
        "certified personal trainer or coach who can offer advice and criticism if you’re not sure how to perform "
        "an exercise correctly.",
    },
    {
        "slug": "right-equipment",
        "kind": "prevention",
        "position": 4,
        "title": "Use the right equipment",
        "summary": "Make sure you have proper shoes and other gear that are appropriate for the activity you have chosen.",
        "body": "Make sure you have proper shoes and other gear that are appropriate for the activity you have chosen. "
        "Worn-out footwear and equipment should be replaced on a regular basis to guarantee proper support and "
        "protection.",
    },
]

DISCLAIMER = (
    "Keep in mind that each person has a unique body, so what works for one might not work for another. "
    "For personalised advice and treatment, it’s essential to speak with a medical professional if you’re "
    "dealing with chronic or severe hip pain."
)

HYDRATION_REVIEW_NOTE = (
    "The sheet says “drink lots of water”. After a marathon, drinking more than thirst asks for can cause "
    "exercise-associated hyponatraemia (Goudie, J R Soc Med 2006), so the portal's task says “drink to thirst”. "
    "Please review the wording of this tip."
)

PROTOCOL_NAME = "Post-marathon hip recovery"

# (position, name, first day, gate, description). Race day is day 0.
PHASES = [
    (
        1,
        "Protect",
        0,
        "none",
        "Rest from running, ice, compression and elevation while the hip settles.",
    ),
    (
        2,
        "Early recovery",
        4,
        "none",
        "Still no running. Gentle stretches once pain allows; light strength work.",
    ),
    (
        3,
        "Strengthen",
        15,
        "none",
        "Lunges and squats join the strength work; cross-training continues.",
    ),
    (
        4,
        "Return to running",
        21,
        "clearance",
        "Running again, once a clinician has cleared you.",
    ),
]

# key, tip slug, label, instruction, first day, last day, doses a day, times a week, gate, gate pain max
STEPS = [
    (
        "rest",
        "rest-and-recovery",
        "Rest from running",
        "No running, jumping or other high-impact exercise today. Gentle walking is fine.",
        0,
        13,
        1,
        None,
        "none",
        None,
    ),
    (
        "ice",
        "ice-therapy",
        "Ice the hip for 15–20 minutes",
        "Wrap an ice pack in a thin towel and hold it on the sore hip for 15 to 20 minutes. Tick once after each session.",
        0,
        2,
        3,
        None,
        "none",
        None,
    ),
    (
        "compression",
        "compression",
        "Wear compression",
        "Wear your compression shorts or wrap, snug but not tight. Take it off at once if you feel tingling or numbness.",
        0,
        3,
        1,
        None,
        "none",
        None,
    ),
    (
        "elevate",
        "elevate-your-legs",
        "Rest with your legs raised",
        "When you sit or lie down, raise your legs on cushions above the level of your heart.",
        0,
        3,
        1,
        None,
        "none",
        None,
    ),
    (
        "hydrate",
        "hydration",
        "Drink to thirst",
        "Drink when you feel thirsty. Do not force down extra water: too much can be dangerous after a marathon.",
        0,
        6,
        1,
        None,
        "none",
        None,
    ),
    (
        "nutrition",
        "appropriate-nutrition",
        "Eat balanced meals",
        "Include whole grains, fruit, vegetables, lean protein and healthy fats in today's meals.",
        0,
        13,
        1,
        None,
        "none",
        None,
    ),
    (
        "check-in",
        "listen-to-your-body",
        "Tell us how your hip feels",
        "Do today's check-in: your pain score and a few yes-or-no questions. It takes a minute.",
        0,
        None,
        1,
        None,
        "none",
        None,
    ),
    (
        "stretch",
        "gentle-stretching",
        "Gentle hip stretches",
        "Gently stretch your hamstrings, glutes and hip flexors. Hold each stretch for 30 seconds. Stop if it hurts.",
        4,
        None,
        1,
        None,
        "pain",
        3,
    ),
    (
        "strength-early",
        "strength-training",
        "Clamshells and hip bridges",
        "Do 2 sets of 10 clamshells on each side and 2 sets of 10 hip bridges. Stop if your pain goes above 3 out of 10.",
        7,
        14,
        1,
        3,
        "pain",
        3,
    ),
    (
        "cross-train",
        "cross-training",
        "Low-impact exercise",
        "20 to 30 minutes of easy cycling, swimming or yoga. No running yet.",
        7,
        None,
        1,
        3,
        "pain",
        3,
    ),
    (
        "strength",
        "strength-training",
        "Lunges, squats, clamshells and bridges",
        "2 sets of 10 of each: lunges, squats, clamshells and hip bridges. Stop if your pain goes above 3 out of 10.",
        15,
        None,
        1,
        3,
        "pain",
        3,
    ),
    (
        "warm-up",
        "warming-up-properly",
        "Warm up before you run",
        "Before each run: 5 to 10 minutes of brisk walking, leg swings and dynamic stretches.",
        21,
        None,
        1,
        3,
        "clearance",
        None,
    ),
    (
        "runner-strength",
        "strength-training-for-prevention",
        "Strength session for runners",
        "Compound moves such as squats, lunges and step-ups, working both sides evenly.",
        21,
        None,
        1,
        2,
        "clearance",
        None,
    ),
    (
        "form",
        "proper-form-and-technique",
        "Run with good form",
        "Run tall with short, quick steps. Ask your physiotherapist to check your running form.",
        21,
        None,
        1,
        1,
        "clearance",
        None,
    ),
    (
        "shoes",
        "right-equipment",
        "Check your running shoes",
        "Look at your shoes: worn soles or flattened cushioning mean it is time for a new pair.",
        21,
        None,
        1,
        1,
        "clearance",
        None,
    ),
]


def load(apps, schema_editor):
    Tip = apps.get_model("recovery", "Tip")
    Disclaimer = apps.get_model("recovery", "Disclaimer")
    SafetyThresholds = apps.get_model("recovery", "SafetyThresholds")
    Protocol = apps.get_model("recovery", "Protocol")
    Phase = apps.get_model("recovery", "Phase")
    ProtocolStep = apps.get_model("recovery", "ProtocolStep")

    tips = {}
    for tip in TIPS:
        review_note = HYDRATION_REVIEW_NOTE if tip["slug"] == "hydration" else ""
        tips[tip["slug"]] = Tip.objects.create(**tip, published=True, review_note=review_note)
    Disclaimer.objects.create(pk=1, text=DISCLAIMER)
    SafetyThresholds.objects.create(pk=1)

    protocol = Protocol.objects.create(
        name=PROTOCOL_NAME,
        is_default=True,
        description="The clinic's default plan after a marathon, from race day (day 0) to the return to running.",
    )
    for position, name, first_day, gate, description in PHASES:
        Phase.objects.create(
            protocol=protocol,
            position=position,
            name=name,
            first_day=first_day,
            gate=gate,
            description=description,
        )
    for position, row in enumerate(STEPS, start=1):
        (
            key,
            slug,
            label,
            instruction,
            first_day,
            last_day,
            doses,
            weekly,
            gate,
            pain_max,
        ) = row
        ProtocolStep.objects.create(
            protocol=protocol,
            key=key,
            tip=tips[slug],
            label=label,
            instruction=instruction,
            position=position,
            first_day=first_day,
            last_day=last_day,
            doses_per_day=doses,
            times_per_week=weekly,
            gate=gate,
            gate_pain_max=pain_max,
        )
    record_first_versions(apps, ["Tip", "Disclaimer", "SafetyThresholds", "Protocol", "Phase", "ProtocolStep"])


def record_first_versions(apps, model_names):
    """Give each loaded row its first history entry, so a clinician can always revert to the sheet's text."""
    now = timezone.now()
    for name in model_names:
        model = apps.get_model("recovery", name)
        historical = apps.get_model("recovery", f"Historical{name}")
        fields = [field.attname for field in model._meta.concrete_fields]
        historical.objects.bulk_create(
            historical(
                **{field: getattr(row, field) for field in fields},
                history_date=now,
                history_type="+",
                history_change_reason="Loaded from the clinic's tip sheet",
            )
            for row in model.objects.all()
        )


def unload(apps, schema_editor):
    apps.get_model("recovery", "Protocol").objects.filter(name=PROTOCOL_NAME).delete()
    apps.get_model("recovery", "Tip").objects.filter(slug__in=[tip["slug"] for tip in TIPS]).delete()
    apps.get_model("recovery", "Disclaimer").objects.filter(pk=1).delete()
    apps.get_model("recovery", "SafetyThresholds").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("recovery", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
