"""Every piece of code in a model compiles in the sandbox: scripts, conditions, payloads, DMN cells.

Each is compiled with the same function that runs it, so what passes here compiles at run
time; a failure is reported on the file line where the faulty code line is written.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import jinja2
from lxml import etree

from ..domain.model import Problem
from .camunda import juel_message, juel_to_python
from .documents import SPIFF_NS, Document, local_name, owner_id, text_line
from .rules import executable_processes
from .sandbox import compile_expression, compile_script, never_provided_builtins

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = f"{{{SPIFF_NS}}}"

# (tag, what it is, compiled as a script rather than an expression)
_BPMN_CODE = (
    (f"{BPMN}conditionExpression", "condition", False),
    (f"{BPMN}condition", "condition", False),
    (f"{BPMN}loopCardinality", "loop cardinality", False),
    (f"{BPMN}completionCondition", "completion condition", False),
    (f"{BPMN}loopCondition", "loop condition", False),
    (f"{SPIFF}preScript", "pre-script", True),
    (f"{SPIFF}postScript", "post-script", True),
    (f"{SPIFF}messagePayload", "message payload", False),
    (f"{SPIFF}expression", "correlation expression", False),
)
_LINE_PREFIX = re.compile(r"^Line \d+: ")
_QUESTION = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")  # '?' outside quotes, as SpiffWorkflow finds it
_NOT_PYTHON = {"true": "True", "false": "False", "null": "None", "nil": "None"}
_PYTHON_FORMATS = {"", "python", "text/python", "text/x-python", "application/x-python"}
_templates = jinja2.Environment(autoescape=True)


def _hint(text: str, message: str = "", script: bool = False) -> str:
    if "unexpected indent" in message:
        if script:
            return " (the first line of a script starts at column 0: remove the indentation)"
        return " (write the expression without spaces or line breaks around it)"
    if "${" in text or "#{" in text:
        return " (this is a JUEL expression: write Python, e.g. importo > 100)"
    if re.search(r"\[[^\]]*\.\.[^\]]*\]", text):
        return " (this is FEEL: write Python, e.g. 18 <= ? <= 30)"
    return ""


def _clean(message: str) -> str:
    parts = [_LINE_PREFIX.sub("", part.strip()) for part in message.split("; ")]
    return "; ".join(part for part in parts if part)


_HINTS = {
    "open": "scripts cannot read or write files",
    "eval": "write the expression itself",
    "exec": "write the statements themselves",
    "compile": "write the code itself",
    "getattr": "use obj.name, or a dict and d.get('name')",
    "hasattr": "use a dict and 'name' in d",
    "type": "use isinstance(value, str)",
    "format": "use an f-string, e.g. f\"{importo:.2f}\"",
    "iter": "use a for loop",
    "next": "use a for loop",
}


def _assigned_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _never_runs(tree: ast.AST) -> tuple[int, str] | None:
    """Code the sandbox compiles but can never run: refused at deploy rather than failing a case."""
    defined = _assigned_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            what = "import" if isinstance(node, ast.Import) else "from ... import"
            return node.lineno, (
                f"{what} is not available in scripts: no module can be loaded "
                "(datetime, date, timedelta, add_days, add_months, at_local_time, today and now_iso are already there)"
            )
        if isinstance(node, ast.ClassDef):
            return node.lineno, f"class statements are not available in scripts ('{node.name}'): use a dict"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in never_provided_builtins() and name not in defined:
                hint = _HINTS.get(name)
                return node.lineno, f"{name}() is not available in scripts" + (f" ({hint})" if hint else "")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "format",
            "format_map",
        ):
            return node.lineno, f".{node.func.attr}() is not available in scripts (use an f-string, e.g. f\"{{nome}}\")"
    return None


def _forbidden(text: str, script: bool) -> tuple[int, str] | None:
    """Names that compile but are FEEL/JavaScript habits, not Python, and code that can never run."""
    try:
        tree = ast.parse(text.strip() if not script else text, mode="exec" if script else "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in _NOT_PYTHON:
            return node.lineno, f"'{node.id}' is not Python: write {_NOT_PYTHON[node.id]}"
    return _never_runs(tree)


def compile_problem(doc: Document, node: etree._Element, text: str, what: str, script: bool) -> Problem | None:
    """A problem if `text` (the text of `node`) does not compile in the sandbox."""
    element = owner_id(node)
    python = juel_to_python(text)
    if python is not None:
        return Problem(doc.name, node.sourceline, element, juel_message(what, text, python))
    try:
        (compile_script if script else compile_expression)(text)
    except SyntaxError as exc:
        line = text_line(node, text, exc.lineno or 1)
        message = _clean(exc.msg if isinstance(exc.msg, str) else str(exc))
        hint = _hint(text, message, script)
        return Problem(doc.name, line, element, f"{what} does not compile: {message}{hint}")
    except Exception as exc:  # noqa: BLE001 - e.g. nesting too deep for the compiler
        return Problem(doc.name, node.sourceline, element, f"{what} does not compile: {exc.__class__.__name__}: {exc}")
    found = _forbidden(text, script)
    if found is not None:
        relative, message = found
        return Problem(doc.name, text_line(node, text, relative), element, f"{what}: {message}")
    return None


def _script_task(doc: Document, task: etree._Element) -> Iterator[Problem]:
    script_format = (task.get("scriptFormat") or "").strip().lower()
    if script_format not in _PYTHON_FORMATS:
        message = f"script format '{task.get('scriptFormat')}' is not supported: scripts are Python"
        yield Problem(doc.name, task.sourceline, task.get("id"), message)
        return
    for script in task.iter(f"{BPMN}script"):
        if script.text and script.text.strip():
            problem = compile_problem(doc, script, script.text, "script", script=True)
            if problem is not None:
                yield problem


def _instructions(doc: Document, node: etree._Element) -> Problem | None:
    text = node.text or ""
    try:
        _templates.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        line = text_line(node, text, exc.lineno or 1)
        return Problem(doc.name, line, owner_id(node), f"instructions are not a valid template: {exc.message}")
    return None


def _parameters(doc: Document, root: etree._Element) -> Iterator[Problem]:
    for param in root.iter(f"{SPIFF}parameter"):
        value = param.get("value")
        if value is not None and local_name(param.getparent()) == "parameters":
            problem = compile_problem(doc, param, value, f"parameter '{param.get('id')}'", script=False)
            if problem is not None:
                yield problem


def _bpmn_code(doc: Document, scope: etree._Element) -> Iterator[Problem]:
    for tag, what, script in _BPMN_CODE:
        for node in scope.iter(tag):
            if tag == f"{SPIFF}expression" and local_name(node.getparent()) != "processVariableCorrelation":
                continue
            if node.text and node.text.strip():
                problem = compile_problem(doc, node, node.text, what, script)
                if problem is not None:
                    yield problem
    for task in scope.iter(f"{BPMN}scriptTask"):
        yield from _script_task(doc, task)
    for node in scope.iter(f"{SPIFF}instructionsForEndUser"):
        problem = _instructions(doc, node)
        if problem is not None:
            yield problem
    yield from _parameters(doc, scope)


def _correlations(doc: Document) -> Iterator[Problem]:
    for retrieval in doc.iter_bpmn("correlationPropertyRetrievalExpression"):
        for node in retrieval:
            if local_name(node) in ("formalExpression", "messagePath") and node.text and node.text.strip():
                problem = compile_problem(doc, node, node.text, "correlation expression", script=False)
                if problem is not None:
                    yield problem


def bpmn_code_problems(doc: Document) -> list[Problem]:
    """Code in the executable processes of a BPMN file that does not compile."""
    processes = executable_processes(doc)
    problems = [p for process in processes for p in _bpmn_code(doc, process)]
    if processes:
        problems.extend(_correlations(doc))
    return problems


def _cell_problem(doc: Document, entry: etree._Element, text: str, label: str) -> Problem | None:
    """A DMN input cell is a test: a value, a comparison ('> 5', "in ['a']"), or an expression with '?'."""
    if _QUESTION.search(text):
        return compile_problem(doc, entry, _QUESTION.sub("dmninputexpr", text), label, script=False)
    first = compile_problem(doc, entry, text, label, script=False)
    if first is None or compile_problem(doc, entry, f"dmninputexpr {text}", label, script=False) is None:
        return None
    return first


def dmn_code_problems(doc: Document) -> list[Problem]:
    """Input expressions and rule cells of a DMN file that do not compile."""
    problems: list[Problem] = []
    for text_node in doc.root.iter(etree.Element):
        if local_name(text_node) != "text" or not (text_node.text or "").strip():
            continue
        text = text_node.text or ""
        cell = text_node.getparent()
        kind = local_name(cell) if cell is not None else ""
        rule = cell.getparent() if cell is not None else None
        row = _row_number(rule) if rule is not None and local_name(rule) == "rule" else None
        if kind == "inputExpression":
            problem = compile_problem(doc, text_node, text, "DMN input expression", script=False)
        elif kind == "inputEntry" and text.strip() != "-":
            problem = _cell_problem(doc, text_node, text, f"DMN rule {row}, input cell")
        elif kind == "outputEntry":
            problem = compile_problem(doc, text_node, text, f"DMN rule {row}, output cell", script=False)
        else:
            continue
        if problem is not None:
            problems.append(problem)
    return problems


def _row_number(rule: etree._Element) -> int:
    parent = rule.getparent()
    rules = [r for r in parent if local_name(r) == "rule"] if parent is not None else [rule]
    return rules.index(rule) + 1

