"""The TorchScript type of a value ``__init__`` stores on a module (stdlib ``ast`` only): the
vocabulary of attribute kinds, :class:`AttrType`, and :func:`value_type`. Which attribute holds
which value, and what the compiler makes of it, is :mod:`tsscan.semantic.attributes`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tsscan.semantic import astwalk
from tsscan.semantic.knowledge import Knowledge
from tsscan.semantic.knowledge import load as load_knowledge
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo

# ---- kinds
TENSOR = "tensor"

INT = "int"

FLOAT = "float"

BOOL = "bool"

STR = "str"

NONE = "none"  # None with no annotation: the attribute's type is NoneType

LIST = "list"

DICT = "dict"

TUPLE = "tuple"

OPTIONAL = "optional"

MODULE = "module"  # an nn.Module submodule

MODULELIST = "modulelist"

SEQUENTIAL = "sequential"

MODULEDICT = "moduledict"

PARAMLIST = "parameterlist"

PARAMDICT = "parameterdict"

FUNCTION = "function"  # a plain function stored on the module: compiled when called

EMPTY_LIST = "empty-list"  # [] without annotation: cannot be typed

EMPTY_DICT = "empty-dict"  # {} without annotation: cannot be typed

PYOBJECT = "pyobject"  # a Python object the compiler cannot convert

UNKNOWN = "unknown"

SCALARS = {INT: "int", FLOAT: "float", BOOL: "bool", STR: "str", TENSOR: "torch.Tensor"}

# containers of submodules: indexing needs literals, iteration unrolls
MODULE_CONTAINERS = {MODULELIST, SEQUENTIAL, MODULEDICT, PARAMLIST, PARAMDICT}

# values the compiler cannot convert to a TorchScript type
UNCONVERTIBLE = {EMPTY_LIST, EMPTY_DICT, PYOBJECT}

# attributes every nn.Module instance has as a TorchScript attribute
MODULE_BUILTINS = {"training": BOOL}

_CONTAINERS = {
    "torch.nn.ModuleList": MODULELIST,
    "torch.nn.modules.container.ModuleList": MODULELIST,
    "torch.nn.Sequential": SEQUENTIAL,
    "torch.nn.modules.container.Sequential": SEQUENTIAL,
    "torch.nn.ModuleDict": MODULEDICT,
    "torch.nn.modules.container.ModuleDict": MODULEDICT,
    "torch.nn.ParameterList": PARAMLIST,
    "torch.nn.modules.container.ParameterList": PARAMLIST,
    "torch.nn.ParameterDict": PARAMDICT,
    "torch.nn.modules.container.ParameterDict": PARAMDICT,
}

_PARAMETER = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}

# calls whose result is a Python object that TorchScript cannot convert
_PYOBJECT_CALLS = {
    "types.SimpleNamespace": "types.SimpleNamespace",
    "argparse.Namespace": "argparse.Namespace",
    "functools.partial": "functools.partial",
    "logging.getLogger": "a logger",
    "easydict.EasyDict": "easydict.EasyDict",
    "omegaconf.OmegaConf.create": "an OmegaConf config",
    "omegaconf.DictConfig": "an OmegaConf config",
    "threading.Lock": "a lock",
    "object": "object",
}

# annotations naming such a class: the parameter holds an unconvertible object
_PYOBJECT_CLASSES = {"types.SimpleNamespace", "argparse.Namespace", "easydict.EasyDict", "omegaconf.DictConfig"}

_NUMPY_ARRAYS = {
    "array",
    "asarray",
    "zeros",
    "ones",
    "empty",
    "full",
    "arange",
    "linspace",
    "eye",
    "stack",
    "concatenate",
    "load",
    "loadtxt",
    "zeros_like",
    "ones_like",
    "meshgrid",
}


@dataclass(frozen=True)
class AttrType:
    """What the compiler makes of one attribute (or one ``__init__`` expression).

    ``kind`` is one of the module constants (TENSOR, INT, ..., EMPTY_LIST, PYOBJECT, UNKNOWN).
    ``ts`` is the TorchScript type as source text when it is known (``"List[int]"``).
    ``origin``: "init" (set in ``__init__``), "class" (class body only), "buffer",
    "parameter", "annotation" (declared, no value seen), "builtin" (``training``) or "".
    ``constant``: ``Final`` or listed in ``__constants__``. ``detail`` says what the Python
    object is, for messages (``"types.SimpleNamespace"``, ``"a lambda"``). ``line``: where the
    value is assigned (0 when not known).
    """

    kind: str
    ts: str | None = None
    origin: str = ""
    constant: bool = False
    detail: str = ""
    line: int = 0
    annotated: bool = False  # a class-level annotation declares it
    # ``self.x: T = v`` in ``__init__``: the compiler ignores such annotations (torch 2.13
    # types the attribute from its value), but the text says what the author meant
    init_annotation: str | None = None

    @property
    def known(self) -> bool:
        return self.kind != UNKNOWN

    def with_(self, **kw) -> AttrType:
        d = dict(self.__dict__)
        d.update(kw)
        return AttrType(**d)


UNKNOWN_T = AttrType(UNKNOWN)

# (class, attribute name, module, depth) -> the attribute's type
AttributeTyper = Callable[[ClassInfo, str, ModuleInfo, int], AttrType]


# --------------------------------------------------------------------------- annotations
def annotation_type(text: str | None, module: ModuleInfo | None = None) -> AttrType:
    """The kind of an annotation written as source text (``"List[int]"``, ``"Final[int]"``)."""
    if not text:
        return UNKNOWN_T
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return UNKNOWN_T
    return _ann_node_type(node, module, text)


def _ann_head(node: ast.expr, module: ModuleInfo | None) -> str:
    from tsscan.semantic.module import dotted

    name = dotted(node) or ""
    if module is not None:
        name = module.resolve(name) or name
    return name


def _ann_node_type(node: ast.expr, module: ModuleInfo | None, text: str) -> AttrType:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "List[int]" string annotation
        return annotation_type(node.value, module)
    if isinstance(node, ast.Constant) and node.value is None:
        return AttrType(NONE, "None", annotated=True)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        return AttrType(OPTIONAL, text, annotated=True)
    if isinstance(node, ast.Subscript):
        head = _ann_head(node.value, module).split(".")[-1]
        if head == "Final":
            inner = _ann_node_type(node.slice, module, ast.unparse(node.slice))
            return inner.with_(constant=True)
        kinds = {
            "List": LIST,
            "list": LIST,
            "Dict": DICT,
            "dict": DICT,
            "Tuple": TUPLE,
            "tuple": TUPLE,
            "Optional": OPTIONAL,
            "Union": UNKNOWN,
        }
        return AttrType(kinds.get(head, UNKNOWN), text, annotated=True)
    head = _ann_head(node, module)
    last = head.split(".")[-1]
    if last == "Final":
        return AttrType(UNKNOWN, None, constant=True, annotated=True)
    simple = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR}
    if head in simple:
        return AttrType(simple[head], head, annotated=True)
    if head in ("torch.Tensor", "Tensor") or head.endswith(".Tensor"):
        return AttrType(TENSOR, "torch.Tensor", annotated=True)
    return AttrType(UNKNOWN, text, annotated=True)


# --------------------------------------------------------------------------- values
class _Env:
    """What an ``__init__`` expression can refer to: parameters, locals, the class, the file."""

    def __init__(
        self,
        module: ModuleInfo,
        cls: ClassInfo | None,
        fn: FuncNode | None,
        attribute: AttributeTyper | None = None,
    ):
        self.module = module
        self.cls = cls
        self.fn = fn
        # the type of another attribute ``self.x`` refers to (tsscan.semantic.attributes)
        self.attribute = attribute
        self.params: dict[str, ast.arg] = {}
        self.defaults: dict[str, ast.expr] = {}
        self.locals: dict[str, list[ast.expr | None]] = {}  # None: a binding whose value is unknown
        self.self_name: str | None = None
        self.depth = 0
        if fn is not None:
            args = fn.args.posonlyargs + fn.args.args
            if args and cls is not None:
                self.self_name = args[0].arg
            self.params, self.defaults, self.locals = _NAMES.on(fn, _names_of)


# a function's parameters, defaults and locals (see _names_of): they depend on the function
# alone, read once and kept on its node (the dicts are only read afterwards)
_NAMES: Memo[tuple[dict[str, ast.arg], dict[str, ast.expr], dict[str, list[ast.expr | None]]]] = Memo(
    "names of a function"
)


def _names_of(
    fn: FuncNode,
) -> tuple[dict[str, ast.arg], dict[str, ast.expr], dict[str, list[ast.expr | None]]]:
    """The parameters of ``fn``, the default of each parameter that has one, and every value
    assigned to each local name (None: a binding whose value is unknown)."""
    params: dict[str, ast.arg] = {}
    defaults: dict[str, ast.expr] = {}
    local: dict[str, list[ast.expr | None]] = {}
    pos = fn.args.posonlyargs + fn.args.args
    for a in pos + fn.args.kwonlyargs:
        params[a.arg] = a
    for a, d in zip(pos[len(pos) - len(fn.args.defaults) :], fn.args.defaults, strict=False):
        defaults[a.arg] = d
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    local.setdefault(t.id, []).append(node.value)
                elif isinstance(t, (ast.Tuple, ast.List)):
                    for e in t.elts:  # unpacking: value not known
                        if isinstance(e, ast.Name):
                            local.setdefault(e.id, []).append(None)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            local.setdefault(node.target.id, []).append(None)
        elif isinstance(node, (ast.For, ast.comprehension, ast.With)):
            tgt = getattr(node, "target", None)
            for n in astwalk.walk(tgt) if tgt is not None else ():
                if isinstance(n, ast.Name):
                    local.setdefault(n.id, []).append(None)
    return params, defaults, local


def value_type(
    expr: ast.expr | None,
    module: ModuleInfo,
    cls: ClassInfo | None = None,
    fn: FuncNode | None = None,
    attribute: AttributeTyper | None = None,
) -> AttrType:
    """The type the compiler infers for the value of ``expr``, an expression of ``fn``
    (normally ``cls.__init__``). UNKNOWN whenever it is not certain; ``self.x`` in it is typed
    by ``attribute`` (unknown without one)."""
    if expr is None:
        return UNKNOWN_T
    return _vt(expr, _Env(module, cls, fn, attribute))


def _vt(e: ast.expr, env: _Env) -> AttrType:
    env.depth += 1
    try:
        if env.depth > 12:
            return UNKNOWN_T
        return _vt_inner(e, env)
    finally:
        env.depth -= 1


def _same(types: list[AttrType]) -> AttrType:
    if types and all(t.known for t in types) and len({(t.kind, t.ts) for t in types}) == 1:
        return types[0]
    return UNKNOWN_T


def _vt_inner(e: ast.expr, env: _Env) -> AttrType:
    mod = env.module
    if isinstance(e, ast.Constant):
        v = e.value
        if isinstance(v, bool):
            return AttrType(BOOL, "bool")
        if isinstance(v, int):
            return AttrType(INT, "int")
        if isinstance(v, float):
            return AttrType(FLOAT, "float")
        if isinstance(v, str):
            return AttrType(STR, "str")
        if v is None:
            return AttrType(NONE, "None")
        return UNKNOWN_T
    if isinstance(e, ast.UnaryOp):
        inner = _vt(e.operand, env)
        if isinstance(e.op, ast.Not):
            return AttrType(BOOL, "bool") if inner.kind in (BOOL, INT, FLOAT, STR) else UNKNOWN_T
        return inner if inner.kind in (INT, FLOAT, TENSOR) else UNKNOWN_T
    if isinstance(e, ast.Lambda):
        return AttrType(PYOBJECT, detail="a lambda")
    if isinstance(e, (ast.List, ast.Tuple, ast.Set)):
        if isinstance(e, ast.Set):
            return AttrType(PYOBJECT, detail="a set") if e.elts else UNKNOWN_T
        if any(isinstance(x, ast.Starred) for x in e.elts):
            return UNKNOWN_T
        if not e.elts:
            return (
                AttrType(EMPTY_LIST, detail="an empty list")
                if isinstance(e, ast.List)
                else AttrType(TUPLE, "Tuple[()]")
            )
        elts = [_vt(x, env) for x in e.elts]
        if any(t.kind in {MODULE} | MODULE_CONTAINERS for t in elts):
            return AttrType(
                PYOBJECT,
                detail="a list of modules (use nn.ModuleList)" if isinstance(e, ast.List) else "a tuple of modules",
            )
        if any(t.kind in UNCONVERTIBLE for t in elts):
            return AttrType(PYOBJECT, detail="a container of unconvertible objects")
        if isinstance(e, ast.Tuple):
            ts = "Tuple[" + ", ".join(t.ts or "?" for t in elts) + "]" if all(t.ts for t in elts) else None
            return AttrType(TUPLE, ts)
        one = _same(elts)
        if one.known and one.kind in SCALARS:
            return AttrType(LIST, f"List[{SCALARS[one.kind]}]")
        return AttrType(LIST)
    if isinstance(e, ast.Dict):
        if not e.keys:
            return AttrType(EMPTY_DICT, detail="an empty dict")
        if any(k is None for k in e.keys):
            return UNKNOWN_T
        keys = [_vt(k, env) for k in e.keys if k is not None]
        vals = [_vt(v, env) for v in e.values]
        if any(t.kind in {MODULE} | MODULE_CONTAINERS for t in vals):
            return AttrType(PYOBJECT, detail="a dict of modules (use nn.ModuleDict)")
        if any(t.kind in UNCONVERTIBLE for t in vals + keys):
            return AttrType(PYOBJECT, detail="a container of unconvertible objects")
        key_t, val_t = _same(keys), _same(vals)
        if key_t.kind in SCALARS and val_t.kind in SCALARS:
            return AttrType(DICT, f"Dict[{SCALARS[key_t.kind]}, {SCALARS[val_t.kind]}]")
        return AttrType(DICT)
    if isinstance(e, (ast.ListComp, ast.GeneratorExp)):
        return AttrType(LIST) if isinstance(e, ast.ListComp) else UNKNOWN_T
    if isinstance(e, ast.DictComp):
        return AttrType(DICT)
    if isinstance(e, ast.SetComp):
        return AttrType(PYOBJECT, detail="a set")
    if isinstance(e, ast.BinOp):
        left, right = _vt(e.left, env), _vt(e.right, env)
        if isinstance(e.op, ast.Mult) and left.kind in (LIST, EMPTY_LIST, PYOBJECT) and right.kind == INT:
            return left
        if isinstance(e.op, ast.Mult) and right.kind in (LIST, EMPTY_LIST, PYOBJECT) and left.kind == INT:
            return right
        if isinstance(e.op, ast.Add) and left.kind == LIST and right.kind == LIST and left.ts == right.ts:
            return left
        if TENSOR in (left.kind, right.kind) and all(t.kind in (TENSOR, INT, FLOAT, BOOL) for t in (left, right)):
            return AttrType(TENSOR, "torch.Tensor")
        if isinstance(e.op, ast.Add) and left.kind == STR and right.kind == STR:
            return AttrType(STR, "str")
        nums = (INT, FLOAT)
        if left.kind in nums and right.kind in nums:
            if isinstance(e.op, ast.Div) or FLOAT in (left.kind, right.kind):
                return AttrType(FLOAT, "float")
            if isinstance(
                e.op,
                (
                    ast.Add,
                    ast.Sub,
                    ast.Mult,
                    ast.FloorDiv,
                    ast.Mod,
                    ast.LShift,
                    ast.RShift,
                    ast.BitAnd,
                    ast.BitOr,
                    ast.BitXor,
                ),
            ):
                return AttrType(INT, "int")
        return UNKNOWN_T
    if isinstance(e, ast.Compare):
        parts = [_vt(x, env) for x in [e.left, *e.comparators]]
        if all(p.kind in (INT, FLOAT, BOOL, STR, NONE) for p in parts):
            return AttrType(BOOL, "bool")
        return UNKNOWN_T
    if isinstance(e, ast.BoolOp):
        return _same([_vt(v, env) for v in e.values])
    if isinstance(e, ast.IfExp):
        return _same([_vt(e.body, env), _vt(e.orelse, env)])
    if isinstance(e, ast.Name):
        return _name_type(e.id, env)
    if isinstance(e, ast.Attribute):
        if env.self_name and isinstance(e.value, ast.Name) and e.value.id == env.self_name and env.cls is not None:
            return env.attribute(env.cls, e.attr, mod, env.depth) if env.attribute is not None else UNKNOWN_T
        name = mod.resolve_node(e) or ""
        if name in ("math.pi", "math.e", "math.inf", "math.tau", "math.nan"):
            return AttrType(FLOAT, "float")
        return UNKNOWN_T
    if isinstance(e, ast.Call):
        return _call_type(e, env)
    return UNKNOWN_T


def _name_type(name: str, env: _Env) -> AttrType:
    mod = env.module
    if name in env.params:
        if name in env.locals:  # reassigned in the body
            return UNKNOWN_T
        a = env.params[name]
        if a.annotation is not None:
            ann = mod.resolve_node(a.annotation)
            if ann in _PYOBJECT_CLASSES:  # cfg: SimpleNamespace
                return AttrType(PYOBJECT, detail=_PYOBJECT_CALLS[ann])
            t = _ann_node_type(a.annotation, mod, ast.unparse(a.annotation))
            if t.kind == FLOAT:
                return UNKNOWN_T  # `scale: float = 1` holds the int 1: the value decides
            return t.with_(annotated=False)
        return UNKNOWN_T
    if name in env.locals:
        values = env.locals[name]
        if len(values) != 1 or values[0] is None:
            return UNKNOWN_T
        return _vt(values[0], env)
    if name in mod.functions:
        return AttrType(FUNCTION, detail=f"function {name}")
    if name in mod.globals and env.fn is not None:
        stmt = mod.globals[name]
        value = getattr(stmt, "value", None)
        if isinstance(value, ast.Constant):
            return _vt(value, _Env(mod, None, None))
    return UNKNOWN_T


def _call_type(e: ast.Call, env: _Env) -> AttrType:
    mod = env.module
    name = mod.resolve_node(e.func) or ""
    if name in _CONTAINERS:
        return AttrType(_CONTAINERS[name], detail=name.split(".")[-1])
    if name in _PARAMETER:
        return AttrType(TENSOR, "torch.Tensor", origin="parameter")
    if name == "torch.jit.Attribute" and len(e.args) == 2:  # torch.jit.Attribute([], List[int])
        return annotation_type(ast.unparse(e.args[1]), mod)
    local = mod.classes.get(name)
    if local is not None:
        if local.is_module:
            chain = list(local.mro())
            if not any("__getitem__" in c.methods for c in chain):
                for c in chain:  # class Stage(nn.Sequential) indexes like a Sequential
                    for b in c.bases:
                        if b in _CONTAINERS:
                            return AttrType(_CONTAINERS[b], detail=name)
            return AttrType(MODULE, detail=name)
        # an instance of a plain class of the file may compile as a TorchScript class
        return UNKNOWN_T
    head, _, last = name.rpartition(".")
    if name.startswith("torch.nn.") and last[:1].isupper() and name not in ("torch.nn.Parameter",):
        if head in ("torch.nn", "torch.nn.modules") or head.startswith("torch.nn.modules."):
            return AttrType(MODULE, detail=name)
        return UNKNOWN_T
    if head == "torch" and _eager_tensor(e, function=name):
        return AttrType(TENSOR, "torch.Tensor")
    if name in _PYOBJECT_CALLS:
        return AttrType(PYOBJECT, detail=_PYOBJECT_CALLS[name])
    if name.startswith("numpy."):
        if last in _NUMPY_ARRAYS or head in ("numpy.random",):
            return AttrType(PYOBJECT, detail="a numpy array")
        return UNKNOWN_T
    if name in ("int", "len"):
        return AttrType(INT, "int")
    if name == "float":
        return AttrType(FLOAT, "float")
    if name == "bool":
        return AttrType(BOOL, "bool")
    if name == "str":
        return AttrType(STR, "str")
    if name in ("math.sqrt", "math.log", "math.exp", "math.log2", "math.log10", "math.cos", "math.sin"):
        return AttrType(FLOAT, "float")
    if name in ("math.ceil", "math.floor"):
        return AttrType(INT, "int")
    if name == "list" and not e.args:
        return AttrType(EMPTY_LIST, detail="an empty list")
    if name == "dict" and not e.args and not e.keywords:
        return AttrType(EMPTY_DICT, detail="an empty dict")
    if isinstance(e.func, ast.Attribute):
        recv = _vt(e.func.value, env)
        m = e.func.attr
        if recv.kind == TENSOR:
            if _eager_tensor(e, method=m):
                return AttrType(TENSOR, "torch.Tensor")
            if m == "numpy":
                return AttrType(PYOBJECT, detail="a numpy array")
            if m == "tolist":
                return AttrType(LIST)
            if m in ("numel", "dim", "ndimension", "element_size", "nelement") and not e.args:
                return AttrType(INT, "int")
    return UNKNOWN_T


@cache
def _knowledge() -> Knowledge:
    """The newest table: the value an ``__init__`` computes in Python does not depend on the
    torch version the compiled code is checked against."""
    return load_knowledge(None)


def _eager_tensor(e: ast.Call, function: str | None = None, method: str | None = None) -> bool:
    """Whether the eager call ``e`` of the torch function ``function`` (``torch.zeros``) or of
    the Tensor method ``method`` returns a Tensor, by the knowledge tables
    (:meth:`~tsscan.semantic.knowledge.Knowledge.eager_function_return`), with the number of
    arguments it passes when that decides (a starred argument: all overloads must agree)."""
    args: list[str | None] | None = None
    keywords: dict[str, str | None] | None = None
    if not any(isinstance(a, ast.Starred) for a in e.args) and all(k.arg is not None for k in e.keywords):
        args, keywords = [None] * len(e.args), {k.arg: None for k in e.keywords if k.arg is not None}
    if function is not None:
        return _knowledge().eager_function_return(function, args, keywords) == "Tensor"
    return method is not None and _knowledge().eager_method_return(method, args, keywords) == "Tensor"
