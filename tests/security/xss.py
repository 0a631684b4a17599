"""The XSS corpus and a course package that carries it in every authored field.

Every payload, if it ever ran, would set ``window.__xss`` (or open a dialog); the browser test checks
neither happened and that no element carries an event-handler attribute. Payloads are written so that
lower-casing (usernames are stored lower-cased) does not disarm them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

S = "window.__xss=1"
PAYLOADS: list[str] = [
    f"<script>{S}</script>",
    f"<img src=x onerror=\"{S}\">",
    f"<svg onload=\"{S}\">",
    f"<svg/onload={S}>",
    f"<body onload={S}>",
    "<iframe src=\"javascript:parent.__xss=1\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    f"\"><script>{S}</script>",
    f"'><img src=x onerror={S}>",
    f"</title><script>{S}</script>",
    f"</textarea><script>{S}</script>",
    f"</style><script>{S}</script>",
    f"<a href=\"javascript:{S}\">click</a>",
    f"<a href=\"JaVaScRiPt:{S}\">mixed case</a>",
    f"<a href=\"jav&#x09;ascript:{S}\">tab entity</a>",
    f"<a href=\"&#106;avascript:{S}\">decimal entity</a>",
    f"[markdown link](javascript:{S})",
    f"![markdown image](x\" onerror=\"{S})",
    f"<details open ontoggle={S}>d</details>",
    f"<input autofocus onfocus={S}>",
    f"<select autofocus onfocus={S}></select>",
    f"<video><source onerror=\"{S}\"></video>",
    f"<video src=x onerror={S}></video>",
    f"<audio src=x onerror={S}></audio>",
    f"<object data=\"javascript:{S}\"></object>",
    f"<embed src=\"javascript:{S}\">",
    f"<math><mtext><table><mglyph><style><img src=x onerror={S}>",
    f"<noscript><p title=\"</noscript><img src=x onerror={S}>\">",
    f"<svg><script>{S}</script></svg>",
    f"<svg><a xlink:href=\"javascript:{S}\"><text y=20>svg link</text></a></svg>",
    f"<svg><animate onbegin={S} attributeName=x dur=1s>",
    f"<marquee onstart={S}>m</marquee>",
    f"<form action=\"javascript:{S}\"><button>form</button></form>",
    f"<button formaction=\"javascript:{S}\">formaction</button>",
    f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{S}\">",
    f"<base href=\"javascript:{S}//\">",
    f"<link rel=stylesheet href=\"javascript:{S}\">",
    f"<div style=\"background:url(javascript:{S})\">style url</div>",
    f"<img src=x OnErRoR={S}>",
    "<img src=x onerror=&#119;indow.__xss=1>",
    f"<scr<script>ipt>{S}</scr</script>ipt>",
    f"<<script>script>{S}<</script>/script>",
    f"<!--><img src=x onerror={S}>-->",
    f"<![CDATA[<img src=x onerror={S}>]]>",
    "{{7*7}}{% raw %}${window.__xss=1}",
    f"javascript:{S}",
    f"data:text/html,<script>{S}</script>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTwvc2NyaXB0Pg==\">data url</a>",
    f"<img src=x:x onerror={S}>",
    f"<x contenteditable onfocus={S} autofocus>x</x>",
    f"<style>@import 'javascript:{S}';</style>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(document.domain)>",
    "<script>alert(1)</script>",
    f"\" onmouseover=\"{S}",
    f"' onfocus='{S}' autofocus='",
    f"<template><img src=x onerror={S}></template>",
    f"<textarea><img src=x onerror={S}></textarea>",
    f"<table background=\"javascript:{S}\"><tr><td>t</td></tr></table>",
    f"<a href=\"#\" onclick=\"{S}\">anchor handler</a>",
    f"<img src=\"x\" alt=\"`\" onerror=\"{S}\">",
    f"<svg><foreignObject><img src=x onerror={S}></foreignObject></svg>",
]
assert len(PAYLOADS) >= 50


def _all(text: str) -> dict[str, str]:
    return {"en": text, "ru": text, "kk": text}


def joined(separator: str = " ") -> str:
    return separator.join(PAYLOADS)


def _fitting(limit: int) -> str:
    """As many whole payloads as a column of ``limit`` characters holds (lesson titles are VARCHAR(300))."""
    taken: list[str] = []
    for payload in PAYLOADS:
        if len(" ".join([*taken, payload])) > limit:
            continue
        taken.append(payload)
    return " ".join(taken)


def write_xss_course(root: Path, course_id: str = "xss-course") -> Path:
    """A valid course package whose every authored text is the whole corpus."""
    folder = root / course_id
    module = folder / "01-hostile"
    module.mkdir(parents=True)
    blocks = "\n\n".join(PAYLOADS)
    course = {
        "id": course_id, "version": 1, "source_locale": "en",
        "title": _all("XSS " + joined()), "description": _all(blocks),
        "estimated_minutes": 5, "completion": {"lessons": "all", "quizzes": "passed", "exam": "none"},
        "modules": ["01-hostile"],
    }
    (folder / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True), encoding="utf-8")
    options = [{"id": f"o{n}", "text": _all(p)} for n, p in enumerate(PAYLOADS)]
    questions = [
        {"id": "x-single", "type": "single", "prompt": _all(blocks), "options": options[:12], "answer": "o0",
         "feedback": _all(blocks)},
        {"id": "x-multiple", "type": "multiple", "prompt": _all(joined()), "options": options[12:30],
         "answer": ["o12", "o13"], "feedback": _all(blocks)},
        {"id": "x-single-2", "type": "single", "prompt": _all(joined()), "options": options[30:],
         "answer": "o30", "feedback": _all(blocks)},
    ]
    module_yaml = {"title": _all(joined()), "lessons": ["01-payloads"], "questions": "questions.yaml",
                   "quiz": "quiz.yaml"}
    (module / "module.yaml").write_text(yaml.safe_dump(module_yaml, allow_unicode=True), encoding="utf-8")
    (module / "questions.yaml").write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    quiz = {"kind": "practice", "title": _all(joined()), "questions": "all", "shuffle_questions": False,
            "pass_mark": 50, "review": "immediately"}
    (module / "quiz.yaml").write_text(yaml.safe_dump(quiz, allow_unicode=True), encoding="utf-8")
    for locale in ("en", "ru", "kk"):
        front = yaml.safe_dump({"title": _fitting(300), "minutes": 5}, allow_unicode=True)
        (module / f"01-payloads.{locale}.md").write_text(f"---\n{front}---\n{blocks}\n", encoding="utf-8")
    return folder
