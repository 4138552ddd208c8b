"""The study's HTML (Jinja2, autoescaped) and its one small script.

Pages carry no keys, file names or labels: the trial page knows only the trial id. The script
measures the response time from the image's load and lets one click per trial through.
"""
from __future__ import annotations

import math

from jinja2 import DictLoader, Environment

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}Real or synthetic?{% endblock %}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
 .stimulus { display: block; margin: 1.5rem auto; border: 1px solid #999; }
 .choices { display: flex; gap: 1rem; justify-content: center; }
 .choices button { font-size: 1.3rem; padding: .7rem 2.5rem; cursor: pointer; }
 form.sent button { opacity: .5; }
 .progress { text-align: center; color: #555; }
 table { border-collapse: collapse; margin: 1rem 0; }
 th, td { border: 1px solid #bbb; padding: .3rem .7rem; text-align: right; white-space: nowrap; }
 th:first-child, td:first-child { text-align: left; }
 .error { color: #a00; }
</style>
<script src="/study.js" defer></script></head>
<body>{% block body %}{% endblock %}</body></html>"""

START = """{% extends "layout" %}{% block body %}
<h1>Real or synthetic?</h1>
<p>You will see {{ n_trials }} {{ domain }} images, one at a time. Some are real photographs or
scans, some are synthetic images made more realistic by a neural network. For each one, say which
you think it is. Go with your first impression.</p>
<form method="get" action="/trial">
 <label>Participant id <input name="participant" required pattern="[A-Za-z0-9_-]{1,40}"
  title="1-40 letters, digits, _ or -" autofocus></label>
 <button type="submit">Start</button></form>
{% endblock %}"""

TRIAL = """{% extends "layout" %}{% block body %}
<p class="progress" id="progress">Trial {{ answered + 1 }} of {{ n_trials }}</p>
<img class="stimulus" id="stimulus" src="/image/{{ trial_id }}" alt="image to judge">
<form class="choices" id="answer-form" method="post" action="/answer">
 <input type="hidden" name="trial_id" value="{{ trial_id }}">
 <input type="hidden" name="response_ms" value="">
 <button type="submit" name="answer" value="real">Real</button>
 <button type="submit" name="answer" value="synthetic">Synthetic</button>
</form>
<p class="progress">Keys: R = real, S = synthetic. Participant: {{ participant }}</p>
{% endblock %}"""

DONE = """{% extends "layout" %}{% block body %}
<h1>Thank you</h1>
<p id="progress">{{ answered }} of {{ n_trials }} answers recorded for {{ participant }}.</p>
{% endblock %}"""

ERROR = """{% extends "layout" %}{% block title %}Error{% endblock %}{% block body %}
<h1 class="error">{{ status }}</h1><p class="error" id="message">{{ message }}</p>
<p><a href="/">Back to the start</a></p>
{% endblock %}"""

RESULTS = """{% extends "layout" %}{% block title %}Study results{% endblock %}{% block body %}
<h1>Visual Turing test: {{ domain }}</h1>
<p>Real images from <code>{{ info.real_split }}</code>, synthetic ones from the refined split
(version {{ info.refined_version }}). Two-sided exact binomial test against chance (50 %).</p>
<table id="overall">
 <tr><th></th><th>answers</th><th>correct</th><th>accuracy</th><th>95 % CI</th><th>p (two-sided)</th></tr>
 {% set o = s.overall %}
 <tr><td>this study</td><td id="overall-n">{{ o.n }}</td><td id="overall-correct">{{ o.correct }}</td>
  <td id="overall-accuracy" data-value="{{ o.accuracy }}">{{ o.accuracy | pct }}</td>
  <td>{{ o.ci_low | pct }} - {{ o.ci_high | pct }}</td>
  <td id="p-value" data-value="{{ o.p_value }}">{{ o.p_value | pval }}</td></tr>
 {% set p = s.paper %}
 <tr><td>SimGAN paper (eyes)</td><td>{{ p.n }}</td><td>{{ p.correct }}</td><td>{{ p.accuracy | pct }}</td>
  <td>{{ p.ci_low | pct }} - {{ p.ci_high | pct }}</td>
  <td>{{ p.p_value | pval }} (reported: {{ paper_reported }}, one-sided)</td></tr>
</table>
<h2>Confusion table</h2>
<table id="confusion"><tr><th>shown \\ answered</th><th>real</th><th>synthetic</th></tr>
 {% for truth, row in s.confusion.items() %}<tr><td>{{ truth }}</td>
  {% for answer, count in row.items() %}<td id="confusion-{{ truth }}-{{ answer }}">{{ count }}</td>{% endfor %}</tr>
 {% endfor %}</table>
<h2>Per participant</h2>
<table id="participants"><tr><th>participant</th><th>answers</th><th>correct</th><th>accuracy</th><th>p</th></tr>
 {% for name, r in s.per_participant.items() %}<tr><td>{{ name }}</td><td>{{ r.n }}</td><td>{{ r.correct }}</td>
  <td>{{ r.accuracy | pct }}</td><td>{{ r.p_value | pval }}</td></tr>{% endfor %}</table>
<p><a href="/results.csv">Download the answers (CSV)</a></p>
{% endblock %}"""

SCRIPT = """
const form = document.getElementById("answer-form");
if (form) {
  const img = document.getElementById("stimulus");
  let shownAt = null;
  const start = () => { shownAt = performance.now(); };
  if (img.complete) start(); else img.addEventListener("load", start);
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) { event.preventDefault(); return; }  // a double click sends one answer
    form.dataset.sent = "1";
    if (shownAt !== null) form.elements.response_ms.value = Math.round(performance.now() - shownAt);
    form.classList.add("sent");
  });
  document.addEventListener("keydown", (event) => {
    const value = {r: "real", s: "synthetic"}[event.key.toLowerCase()];
    if (value) form.requestSubmit(form.querySelector(`button[value="${value}"]`));
  });
}
"""


def pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f} %"


def pval(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3g}"


ENV = Environment(loader=DictLoader({"layout": LAYOUT, "start": START, "trial": TRIAL, "done": DONE,
                                     "error": ERROR, "results": RESULTS}), autoescape=True)
ENV.filters.update(pct=pct, pval=pval)


def render_page(name: str, **context) -> str:
    return ENV.get_template(name).render(**context)
