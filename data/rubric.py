"""The judge of educational value: the question phi-1 asked GPT-4, and a transparent rubric that stands in for it.

phi-1 asked GPT-4 for the "educational value for a student whose goal is to learn basic coding concepts" of
each file; FineWeb-Edu and SmolLM's Python-Edu asked an LLM the same with an additive 0-5 scale. `PROMPT` is
that question for any OpenAI-compatible endpoint, and `parse_answer` reads the reply strictly.

Offline, `rubric(text)` answers it by rule: five criteria worth up to one point each, added (0-5), then
multiplied by penalties for what a teacher of basic coding would not hand to a student. Every criterion is a
function below whose docstring says what it rewards; `rubric` returns the score and a one-line reason naming
each part. These labels are a stand-in for an LLM's, not a copy of them.

    points:    explains_itself + meaningful_names + small_functions + teaches_by_example + does_something
    penalties: generated_code * literal_tables * minified_layout * repetitive * boilerplate * test_fixtures
               * vendored_path

The rubric reads the first MAX_CHARS characters of a document, the part a teacher's context (and the
classifier) sees: about one phi context of 2048 tokens.
"""
import ast
import re
import sys
import zlib
from collections import Counter
from statistics import median

MAX_CHARS = 8000

PROMPT = """Below is an extract from a Python program. Determine its educational value for a student whose goal \
is to learn basic coding concepts, with this additive 5-point scale; points accumulate:
- Add 1 point if the extract is valid Python that does something, even if it is boilerplate, configuration or \
a niche concept.
- Add another point if it addresses practical programming concepts, even without comments.
- Award a third point if it is suitable for teaching and introduces key concepts of programming: well \
structured, with some comments or docstrings.
- Give a fourth point if it is self-contained and highly relevant to teaching programming, like a school \
exercise, a tutorial or a section of a Python course.
- Grant a fifth point if it is outstanding for teaching programming: well written, easy to understand, with \
step-by-step explanations in comments.
Generated code, long tables of literals, configuration, minified code and tests made of fixtures earn few \
points.

The extract:
```python
{extract}
```

Answer with exactly two lines:
Reason: <one sentence>
Educational score: <an integer from 0 to 5>"""

ANSWER = re.compile(r"Reason:[ \t]*(?P<reason>\S[^\n]*)\n+Educational score:[ \t]*(?P<score>[0-5])[ \t]*\.?", re.I)


def extract(text):
    """The first MAX_CHARS characters, cut at a line end."""
    if len(text) <= MAX_CHARS:
        return text
    head = text[:MAX_CHARS]
    cut = head.rfind("\n")
    return head[:cut + 1] if cut > 0 else head


def parse_answer(answer):
    """(score 0-5, reason) from a teacher's reply, or None when it is not exactly the format asked for: a
    reply is never guessed at."""
    found = ANSWER.fullmatch(answer.strip())
    return (int(found["score"]), found["reason"].strip()) if found else None


# ----------------------------------------------------------------------------------------------------------
# What the criteria look at, measured once per document

STDLIB = sys.stdlib_module_names
SHORT_NAMES_THAT_READ_WELL = {"i", "j", "k", "n", "m", "x", "y", "z", "a", "b", "c", "_", "id", "ok", "os", "re",
                              "io", "fn", "db", "df"}
GENERATED = re.compile(r"auto-?generated|automatically generated|generated (?:by|from|with)|do not edit|"
                       r"@generated|code generated|this file (?:is|was) generated|changes made in this file will be "
                       r"lost|code generator", re.I)
LICENSE = re.compile(r"licen[cs]e|copyright|\(c\) \d{4}", re.I)
# atomic groups (?>...): each literal is matched one way only, so a line that is not data fails in linear time
DATA_LINE = re.compile(r"""(?>[-+]?(?>0[xXoObB][\da-fA-F_]+|\d[\d_]*+(?:\.\d*+)?(?:[eE][-+]?\d+)?[jJlL]?)"""
                       r"""|[rRbBuUfF]{0,2}(?>'[^'\\]*+(?:\\.[^'\\]*+)*+'|"[^"\\]*+(?:\\.[^"\\]*+)*+")"""
                       r"""|True|False|None|[\s,:;()\[\]{}\\]++)++(?:#.*)?""")  # a comment may follow
BLOB_LINE = re.compile(r"[\w+/=\\-]{60,}")  # base64, hex dumps and other unbroken runs
TABLE_RUN = 5  # consecutive data lines that make a table rather than a stray literal
LONG_LINE = 160
VENDORED = re.compile(r"[/\\](?:_?vendor(?:ed)?|third_party|thirdparty|extern)[/\\]")
STATEMENT_START = re.compile(r"[ \t]*(?:def |class |async def |@)|[^\s)\]}#]")  # where a cut extract may end
TEST_NAME = re.compile(r"^(?:test_?|setup|teardown|setUp|tearDown|setUpClass|tearDownClass)", re.I)


class Facts:
    """What the criteria look at, measured in one pass over the extract's lines and one over its syntax tree."""

    def __init__(self, text, path=""):
        self.path = path
        self.text = extract(text)
        self.lines = self.text.splitlines()
        self.tree = parse_python(self.text)
        self.defs = []  # the module (when not empty), classes and functions: what can carry a docstring
        self.docstrings = []  # (node, text) of those that have one
        self.docstring_lines = set()
        self.functions = []  # every function; function_sizes: statements in its own body (a nested def is one)
        self.names = []  # defined names: functions, classes, arguments, assigned variables
        self.imports_outside_stdlib = 0  # third-party modules and relative imports
        self.long_strings = []  # (first, last line) of string constants of 10+ lines that are not docstrings
        self.statement_lines = []  # line of every simple (non-compound) statement
        self.logic = self.setup = 0  # statements that compute / that only import or assign constants
        if self.tree is not None:
            self._read_tree()
        self.data_lines = find_data_lines(self.lines, self.docstring_lines, self.long_strings)
        self.comment_lines = count_comment_lines(self.lines, self.data_lines)
        self.code_lines = [line for no, line in enumerate(self.lines, 1) if line.strip()
                           and no not in self.docstring_lines and not line.lstrip().startswith("#")]

    def _read_tree(self):
        function_sizes = {}
        stack = [(self.tree, None, True)]  # (node, innermost enclosing function, at module or class level)
        while stack:
            node, owner, top = stack.pop()
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self._definition(node)
            if isinstance(node, ast.stmt) and not is_docstring(node):
                if owner is not None:
                    function_sizes[owner] += 1
                if not hasattr(node, "body"):
                    self.statement_lines.append(node.lineno)
                if top:
                    is_setup = isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global)) or \
                        isinstance(node, (ast.Assign, ast.AnnAssign)) and is_constant(node.value)
                    self.setup += is_setup
                    self.logic += not is_setup and not isinstance(node, ast.ClassDef)
                elif owner is not None:
                    self.logic += 1
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function_sizes[node] = 0
                self.functions.append(node)
                self.names.append(node.name)
            elif isinstance(node, ast.ClassDef):
                self.names.append(node.name)
            elif isinstance(node, ast.arg):
                if node.arg not in ("self", "cls"):
                    self.names.append(node.arg)
            elif isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    self.names.append(node.id)
            elif isinstance(node, ast.Import):
                self.imports_outside_stdlib += sum(a.name.split(".")[0] not in STDLIB for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                self.imports_outside_stdlib += node.level > 0 or (node.module or "").split(".")[0] not in STDLIB
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, (str, bytes)) and node.end_lineno - node.lineno >= 10 \
                        and node.lineno not in self.docstring_lines:
                    self.long_strings.append((node.lineno, node.end_lineno))
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            inner_owner = node if is_function else owner
            inner_top = isinstance(node, (ast.Module, ast.ClassDef))
            for child in ast.iter_child_nodes(node):
                stack.append((child, inner_owner, inner_top and isinstance(child, ast.stmt)))
        self.function_sizes = [function_sizes[f] for f in self.functions]
        self.main_block = any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in self.tree.body)

    def _definition(self, node):
        if not isinstance(node, ast.Module) or node.body:
            self.defs.append(node)
        doc = docstring_node(node)
        if doc is not None:
            self.docstrings.append((node, doc.value.value))
            self.docstring_lines.update(range(doc.lineno, doc.end_lineno + 1))


def parse_python(text):
    """The AST of the text; for an extract cut mid-statement, of its longest prefix that ends before a `def`,
    `class` or decorator line or a top-level statement (so a class cut in its tenth method keeps nine); None
    when that fails too (not Python 3)."""
    lines = text.splitlines(keepends=True)
    end = len(lines)
    for attempt in range(4):
        try:
            return ast.parse("".join(lines[:end]))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            if len(text) < MAX_CHARS // 2:
                return None  # not an extract cut short: the file itself does not parse
            end = min(end - 1, (getattr(e, "lineno", None) or end) - 1)
            while end > 0 and not STATEMENT_START.match(lines[end]):
                end -= 1
            if end <= 0:
                return None
    return None


def docstring_node(node):
    body = getattr(node, "body", None)
    if body and is_docstring(body[0]):
        return body[0]
    return None


def is_docstring(stmt):
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def count_comment_lines(lines, data_lines):
    """Lines with a comment that explains: not the shebang, the encoding line, a licence header or a
    comment on a line of a table."""
    count, header = 0, True
    header_is_license = any(LICENSE.search(line) for line in lines[:40] if line.lstrip().startswith("#"))
    for no, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if no in data_lines:
            header = False
            continue
        if header and stripped.startswith("#") or header and not stripped:
            if not header_is_license and stripped[:2] not in ("#!",) and "coding" not in stripped[:25]:
                count += bool(stripped)
            continue
        header = False
        if stripped.startswith("#") or "  # " in line:
            count += 1
    return count


def find_data_lines(lines, docstring_lines, long_strings):
    """Lines that hold data, not code: runs of TABLE_RUN or more lines of nothing but literals and
    punctuation, unbroken blobs (base64, hex), and long string constants that are not docstrings."""
    data = set()
    run = []
    for no, line in enumerate(lines, 1):
        stripped = line.strip()
        if no in docstring_lines:
            is_data = False
        elif not stripped:
            continue
        else:
            is_data = bool(DATA_LINE.fullmatch(stripped) or BLOB_LINE.fullmatch(stripped.strip("'\",")))
        if is_data:
            run.append(no)
        else:
            if len(run) >= TABLE_RUN:
                data.update(run)
            run = []
    if len(run) >= TABLE_RUN:
        data.update(run)
    for first, last in long_strings:
        data.update(no for no in range(first, last + 1) if lines[no - 1].strip())
    return data


def ramp(value, low, high):
    """0 at `low`, 1 at `high`, linear between (high < low makes it falling)."""
    return max(0.0, min(1.0, (value - low) / (high - low)))


# ----------------------------------------------------------------------------------------------------------
# The points: each worth 0 to 1

def explains_itself(facts):
    """Docstrings and comments: half for the share of the module, classes and functions that have a
    docstring, half for explanation lines (comments + docstrings) reaching a quarter of the code lines."""
    if facts.tree is None or not facts.code_lines:
        return 0.0
    documented = len(facts.docstrings) / max(1, len(facts.defs))
    explanation = (facts.comment_lines + len(facts.docstring_lines)) / len(facts.code_lines)
    return 0.5 * min(1.0, documented) + 0.5 * ramp(explanation, 0.0, 0.25)


def meaningful_names(facts):
    """Names that say what they hold: the share of distinct defined names (functions, classes, arguments,
    assigned variables) that are words of three letters or more, or a short name every reader knows (i, n,
    x, a, b, ...): 0 at half of them, the full point from 85%."""
    names = set(facts.names)
    if not names:
        return 0.0
    readable = sum(len(name.strip("_")) >= 3 or name in SHORT_NAMES_THAT_READ_WELL for name in names)
    return ramp(readable / len(names), 0.5, 0.85)


def small_functions(facts):
    """Small functions: the median function body has at most 12 statements for the full point, none past 50
    (a nested function counts as one statement of its parent). A short script with no functions gets a
    little: it can still read top to bottom."""
    if not facts.functions:
        return 0.3 if 0 < facts.logic + facts.setup <= 30 else 0.0
    return ramp(median(facts.function_sizes), 50, 12)


def teaches_by_example(facts):
    """Examples and independence: half for examples a student can run (doctests, a `__main__` block, an
    "Example"/"Usage" section), half for being self-contained (few imports outside the standard library,
    no relative imports into a package)."""
    if facts.tree is None:
        return 0.0
    if facts.main_block or any(">>>" in doc for _, doc in facts.docstrings):
        examples = 1.0
    elif re.search(r"\b(?:examples?|usage|e\.g\.)", facts.text, re.I):
        examples = 0.5
    else:
        examples = 0.0
    return 0.5 * examples + 0.5 * ramp(facts.imports_outside_stdlib, 6, 0)


def does_something(facts):
    """Code that runs logic: valid Python with at least 5 statements of logic (function bodies and
    top-level control flow or calls, not imports and constant assignments)."""
    return ramp(facts.logic, 0, 5) if facts.tree is not None else 0.0


def is_constant(node):
    """A literal, a container of literals, or a plain name/attribute: data, not computation."""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Attribute)):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(is_constant(e) for e in node.keys + node.values)
    if isinstance(node, ast.UnaryOp):
        return is_constant(node.operand)
    return False


POINTS = (explains_itself, meaningful_names, small_functions, teaches_by_example, does_something)


# ----------------------------------------------------------------------------------------------------------
# The penalties: each a factor from 0 to 1

def generated_code(facts):
    """A tool wrote it ("auto-generated", "do not edit", "generated by", "@generated" in a comment or the
    module docstring near the top): x0.1."""
    head = [line for line in facts.lines[:40] if line.lstrip().startswith("#")]
    module_doc = facts.docstrings[0][1][:500] if facts.docstrings and isinstance(facts.docstrings[0][0], ast.Module) \
        else ""
    return 0.1 if GENERATED.search("\n".join(head) + module_doc) else 1.0


def literal_tables(facts):
    """Data rather than code: (1 - share of lines that are tables, blobs or long strings) squared, so a
    module that is mostly a table scores ~0."""
    lines = sum(1 for line in facts.lines if line.strip())
    return (1 - len(facts.data_lines) / lines) ** 2 if lines else 0.0


def minified_layout(facts):
    """The layout of a minifier or a machine: (1 - share of code characters on lines over 160 characters)
    times (1 - share of statements squeezed onto a line with another), halved when blocks are indented by a
    single space."""
    total = sum(len(line) for line in facts.code_lines)
    long = sum(len(line) for line in facts.code_lines if len(line) > LONG_LINE)
    simple = facts.statement_lines
    shared = len(simple) - len(set(simple))
    steps = Counter(len(b) - len(b.lstrip(" ")) - (len(a) - len(a.lstrip(" ")))
                    for a, b in zip(facts.code_lines, facts.code_lines[1:]))
    steps = {step: n for step, n in steps.items() if step > 0}
    one_space = bool(steps) and max(steps, key=steps.get) == 1
    return (1 - long / total if total else 1.0) * (1 - shared / len(simple) if simple else 1.0) * \
        (0.5 if one_space else 1.0)


def repetitive(facts):
    """The same code over and over (written by a program, or pasted): the code lines, without comments and
    docstrings, compress with zlib to under a fifth of their size: ramp from x0 at a tenth to x1 at a fifth."""
    code = "\n".join(facts.code_lines).encode()
    if len(code) < 500:
        return 1.0  # too short to judge by compression
    return ramp(len(zlib.compress(code)) / len(code), 0.10, 0.20)


def boilerplate(facts):
    """Setup and configuration: scaled by the share of statements that are logic, so a module of imports
    and settings keeps almost nothing: min(1, 2 x logic share)."""
    if facts.tree is None:
        return 1.0  # nothing to tell: the points are already 0
    statements = facts.logic + facts.setup
    return min(1.0, 2 * facts.logic / statements) if statements else 0.0


def test_fixtures(facts):
    """Test suites: a test file teaches its project's behaviour, not coding. 1 - 0.75 x the share of functions
    that are tests, fixtures or set-up, less 0.2 more when it mocks."""
    if not facts.functions:
        return 1.0
    tests = sum(bool(TEST_NAME.match(f.name)) or any("fixture" in ast.unparse(d) or "patch" in ast.unparse(d)
                                                      for d in f.decorator_list) for f in facts.functions)
    mocks = 0.2 if re.search(r"\bmock\b|MagicMock|monkeypatch", facts.text) and tests else 0.0
    return max(0.0, 1 - 0.75 * tests / len(facts.functions) - mocks)


def vendored_path(facts):
    """A copy of another project kept inside this one (a `_vendor/`, `vendored/`, `third_party/` or
    `extern/` folder in the path): x0.5. The only criterion that reads the path, not the text."""
    return 0.5 if VENDORED.search(facts.path) else 1.0


PENALTIES = (generated_code, literal_tables, minified_layout, repetitive, boilerplate, test_fixtures, vendored_path)


def rubric(text, path=""):
    """(score from 0 to 5, one-line reason) for a document, by the criteria above."""
    facts = Facts(text, path)
    points = {f.__name__: f(facts) for f in POINTS}
    factors = {f.__name__: f(facts) for f in PENALTIES}
    score = sum(points.values())
    for factor in factors.values():
        score *= factor
    if facts.tree is None:
        reason = "not Python 3 (does not parse)"
    else:
        reason = " + ".join(f"{name} {value:.2f}" for name, value in points.items())
        cuts = [f"{name} x{value:.2f}" for name, value in factors.items() if value < 0.995]
        reason += "; " + ", ".join(cuts) if cuts else ""
    return round(score, 3), reason
