"""The studio's architecture as text, one Keras layer per line, so a student edits LeNet-5 as the lecture writes it:

    Conv2D(6, 5, activation="relu", name="C1")
    MaxPooling2D(2, name="S2")
    ...
    Dense(10, name="OUTPUT")

`parse(text)` -> a core Sequential (ArchError, a ValueError naming the line and the reason: unknown layer, bad
argument, shapes that do not fit, as core's layers say, or a model too large to train here; its `.line` is the
line's number, for the editor to mark); `format_model(model)` -> the text. Lines are read with
`ast.literal_eval` on each argument: nothing is executed.
"""
import ast

from core import layers as L, models

INPUT_SHAPE = (32, 32, 1)     # MNIST digits padded to 32x32, LeNet-5's input
CLASSES = 10
# What the studio trains in the browser: LeNet-5 is 61,706 weights and 0.42 M multiplications per digit.
MAX_CHARS, MAX_LINES = 4000, 40
MAX_PARAMS = 2_000_000
MAX_MULTS = 50_000_000
EDITABLE = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "Activation")
# The argument written without its keyword (as Keras code usually does).
POSITIONAL = {"Conv2D": ("filters", "kernel_size"), "MaxPooling2D": ("pool_size",),
              "AveragePooling2D": ("pool_size",), "Dense": ("units",), "Dropout": ("rate",),
              "Activation": ("activation",), "Flatten": ()}
TEMPLATES = {"Conv2D": 'Conv2D(8, 3, padding="same", activation="relu")', "MaxPooling2D": "MaxPooling2D(2)",
             "AveragePooling2D": "AveragePooling2D(2)", "Dense": 'Dense(64, activation="relu")',
             "Dropout": "Dropout(0.25)", "Flatten": "Flatten()"}


class ArchError(ValueError):
    """What is wrong with the architecture text; `line` is the 1-based line it is about (None: the whole text)."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.line = line


def parse_line(line, number):
    """One line -> a fresh core layer. ArchError('line N: ...') if it is not one of EDITABLE with literal args."""
    where = f"line {number} ({line.strip()[:80]})"
    try:
        node = ast.parse(line.strip(), mode="eval").body
    except (SyntaxError, RecursionError, MemoryError):     # 100,000 brackets are a syntax error too
        raise ArchError(f"{where}: not a layer; write it like Conv2D(6, 5, activation=\"relu\")", number) from None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ArchError(f"{where}: not a layer; write it like Conv2D(6, 5, activation=\"relu\")", number)
    kind = node.func.id
    if kind not in EDITABLE:
        raise ArchError(f"{where}: unknown layer {kind!r}; use one of {', '.join(EDITABLE)}", number)
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise ArchError(f"{where}: arguments must be plain numbers, strings or lists", number) from None
    if len(node.keywords) != len(kwargs):
        raise ArchError(f"{where}: **kwargs are not supported", number)
    try:
        return L.KINDS[kind](*args, **kwargs)
    except (TypeError, ValueError, OverflowError) as e:
        raise ArchError(f"{where}: {e}", number) from None


def parse(text, dropout=0.0):
    """Text -> Sequential on a 32x32x1 input ending in 10 class scores. With dropout > 0, a Dropout(dropout)
    goes before the last layer (the usual place, as core.models.lenet5(dropout=) does)."""
    text = str(text)
    if len(text) > MAX_CHARS or text.count("\n") >= MAX_LINES:
        raise ArchError(f"the architecture is too long for the studio (at most {MAX_LINES} lines and {MAX_CHARS:,} "
                        f"characters, got {text.count(chr(10)) + 1} lines and {len(text):,} characters)")
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.strip().startswith("#")]
    if not lines:
        raise ArchError("the architecture is empty; add layers, one per line")
    # A first pass on throwaway layers says which line does not fit (Sequential only knows positions).
    x = L.Input(INPUT_SHAPE)
    params = mults = 0
    for number, line in lines:
        layer = parse_line(line, number)
        try:
            x = layer(x)
        except (ValueError, TypeError, OverflowError) as e:
            raise ArchError(f"line {number} ({line.strip()[:80]}) cannot follow an output of shape "
                            f"(None, {', '.join(map(str, x.shape))}): {e}", number) from None
        params, mults = params + layer.count_params(), mults + layer.mults()
        if params > MAX_PARAMS or mults > MAX_MULTS:     # before any weight is allocated
            raise ArchError(f"line {number} ({line.strip()[:80]}) makes the model too large to train here: "
                            f"{params:,} weights and {mults:,} multiplications per digit so far (the studio "
                            f"takes up to {MAX_PARAMS:,} and {MAX_MULTS:,}; LeNet-5 has 61,706 and 423,038)", number)
    stack = [parse_line(line, number) for number, line in lines]
    if dropout:
        stack.insert(len(stack) - 1, L.Dropout(dropout, name="dropout_hp"))
    model = models.Sequential([L.Input(INPUT_SHAPE, name="input")] + stack, name="studio")
    if model.output_shape != (CLASSES,):
        raise ArchError(f"the last layer must give {CLASSES} class scores, e.g. Dense({CLASSES}); this stack ends "
                        f"with output (None, {', '.join(map(str, model.output_shape))})", lines[-1][0])
    if not any(layer.weights for layer in model.layers):
        raise ArchError("the stack has no layer with weights, so there is nothing to train")
    return model


def _literal(value):
    if isinstance(value, list) and len(value) == 2 and value[0] == value[1]:
        return repr(value[0])              # (5, 5) is written 5, as Keras code does
    if isinstance(value, list):
        return repr(tuple(value))
    if isinstance(value, str):
        return '"' + value + '"'
    return repr(value)


def format_layer(kind, config, name):
    """One layer's text: the positional arguments, then the keyword arguments that differ from the defaults."""
    positional = POSITIONAL.get(kind, ())
    defaults = L.KINDS[kind](*[config[p] for p in positional]).config()
    args = [_literal(config[p]) for p in positional]
    args += [f"{k}={_literal(v)}" for k, v in config.items() if k not in positional and defaults.get(k) != v]
    if name:
        args.append(f'name="{name}"')
    return f"{kind}({', '.join(args)})"


def format_model(model):
    """A core model (straight chain of EDITABLE layers) -> text that `parse` reads back to the same stack."""
    lines = []
    for spec in model.get_config()["layers"][1:]:
        if spec["kind"] not in EDITABLE:
            raise ValueError(f"layer '{spec['name']}' ({spec['kind']}) cannot be edited in the studio")
        lines.append(format_layer(spec["kind"], spec["config"], spec["name"]))
    return "\n".join(lines)


def lenet5_text():
    return format_model(models.lenet5())
