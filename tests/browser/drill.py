"""How a person answers each question of the field-drill course, by what they read on the page (Kazakh or English)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import navigate

ANSWERS = {
    "kk": {
        "single": ("Автомобиль жүгімен", ["CMR жүкқұжаты"]),
        "multiple": ("тәуекел индикаторы", ["Жаңа дәнекерлеу іздері", "Зауыттық емес бұрандалар"]),
        "true_false": ("Экспресс-тест түпкілікті", "false"),
        "short_text": ("кітапша қалай аталады", "ХЖТ кітапшасы"),
        "numeric": ("неше метр", "2"),
        "matching": (
            "сәйкестендіріңіз",
            {"Фиброскоп": "Қуыстарды қарау", "Тығыздық өлшегіш": "Жасырын қабаттарды табу"},
        ),
        "ordering": (
            "ретімен орналастырыңыз",
            ["Орнында суретке түсіру", "Мөрлеу және таңбалау", "Сақтау журналымен тапсыру"],
        ),
        "hotspot": ("Жанармай багын", "Жанармай багы"),
        "scenario": ("жүк көлігі келеді", ["Тексеріп қарауға жіберу", "Ашық сұрақтар қою"]),
    },
    "en": {
        "single": ("accompanies road cargo", ["CMR consignment note"]),
        "multiple": ("risk indicators", ["Fresh welds", "Non-factory screws"]),
        "true_false": ("field test kit", "false"),
        "short_text": ("Name the carnet", "TIR carnet"),
        "numeric": ("How many metres", "2"),
        "matching": ("Match each tool", {"Fibrescope": "Look inside cavities", "Density meter": "Find hidden layers"}),
        "ordering": (
            "recording a find",
            ["Photograph the find in place", "Seal and label it", "Hand over with the custody log"],
        ),
        "hotspot": ("Mark the fuel tank", "Fuel tank"),
        "scenario": ("lorry arrives at night", ["Refer for inspection", "Ask open questions"]),
    },
}


def question_kind(page: Any, locale: str) -> str:
    prompt = page.inner_text(".prompt")
    for kind, (marker, _answer) in ANSWERS[locale].items():
        if marker in prompt:
            return kind
    raise AssertionError(f"unknown question: {prompt}")


def answer(page: Any, locale: str, *, javascript: bool = True) -> str:
    """Answer the question on the page correctly, the way a trainee would; return its kind."""
    kind = question_kind(page, locale)
    value = ANSWERS[locale][kind][1]
    form = page.locator("form.question-form")
    if kind in ("single", "multiple"):
        for text in value:
            form.locator("label.choice", has_text=text).click()
    elif kind == "true_false":
        form.locator(f"input[name=answer][value={value}]").check()
    elif kind in ("short_text", "numeric"):
        form.locator("input[name=answer]").fill(value)
    elif kind == "matching":
        for left, right in value.items():
            form.get_by_label(left).select_option(label=right)
    elif kind == "ordering":
        if javascript:
            for target, text in enumerate(value):
                for _ in range(len(value)):
                    items = form.locator(".order-item")
                    texts = [items.nth(i).inner_text() for i in range(items.count())]
                    current = next(i for i, t in enumerate(texts) if text in t)
                    if current == target:
                        break
                    items.nth(current).locator("button.up").click()
        else:
            for position, text in enumerate(value, start=1):
                form.get_by_label(text).select_option(str(position))
    elif kind == "hotspot":
        if javascript:
            image = form.locator("img.hotspot-image")
            box = image.bounding_box()
            # the tank: x 120..200, y 150..175 of a 400 x 200 viewBox
            image.click(position={"x": box["width"] * 160 / 400, "y": box["height"] * 162 / 200})
        else:
            form.locator("label.choice", has_text=value).click()
    elif kind == "scenario":
        for text in value:
            form.locator("label.choice", has_text=text).click()
            navigate(page, form.locator("button[value=step]"))
            form = page.locator("form.question-form")
    return kind
