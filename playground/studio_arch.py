"""The studio's architecture as text, one Keras layer per line, so a student edits LeNet-5 as the lecture writes it:

    Conv2D(6, 5, activation="relu", name="C1")
    MaxPooling2D(2, name="S2")
    ...
    Dense(10, name="OUTPUT")

`parse(text)` -> a core Sequential (ValueError naming the line and the reason: unknown layer, bad argument, or
shapes that do not fit, as core's layers say); `format_model(model)` -> the text. Lines are read with
`ast.literal_eval` on each argument: nothing is executed.
"""
import ast

from core import layers as L, models

INPUT_SHAPE = (32, 32, 1)     # MNIST digits padded to 32x32, LeNet-5's input
CLASSES = 10
EDITABLE = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "Activation")
# The argument written without its keyword (as Keras code usually does).
POSITIONAL = {"Conv2D": ("filters", "kernel_size"), "MaxPooling2D": ("pool_size",),
              "AveragePooling2D": ("pool_size",), "Dense": ("units",), "Dropout": ("rate",),
              "Activation": ("activation",), "Flatten": ()}
TEMPLATES = {"Conv2D": 'Conv2D(8, 3, padding="same", activation="relu")', "MaxPooling2D": "MaxPooling2D(2)",
             "AveragePooling2D": "AveragePooling2D(2)", "Dense": 'Dense(64, activation="relu")',
             "Dropout": "Dropout(0.25)", "Flatten": "Flatten()"}


def parse_line(line, number):
    """One line -> a fresh core layer. ValueError('line N: ...') if it is not one of EDITABLE with literal args."""
    where = f"line {number} ({line.strip()})"
    try:
        node = ast.parse(line.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: not a layer; write it like Conv2D(6, 5, activation=\"relu\")") from None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"{where}: not a layer; write it like Conv2D(6, 5, activation=\"relu\")")
    kind = node.func.id
    if kind not in EDITABLE:
        raise ValueError(f"{where}: unknown layer {kind!r}; use one of {', '.join(EDITABLE)}")
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except ValueError:
        raise ValueError(f"{where}: arguments must be plain numbers, strings or lists") from None
    if len(node.keywords) != len(kwargs):
        raise ValueError(f"{where}: **kwargs are not supported")
    try:
        return L.KINDS[kind](*args, **kwargs)
    except TypeError as e:
        raise ValueError(f"{where}: {e}") from None
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def parse(text, dropout=0.0):
    """Text -> Sequential on a 32x32x1 input ending in 10 class scores. With dropout > 0, a Dropout(dropout)
    goes before the last layer (the usual place, as core.models.lenet5(dropout=) does)."""
    lines = [(i + 1, line) for i, line in enumerate(str(text).splitlines())
             if line.strip() and not line.strip().startswith("#")]
    if not lines:
        raise ValueError("the architecture is empty; add layers, one per line")
    # A first pass on throwaway layers says which line does not fit (Sequential only knows positions).
    x = L.Input(INPUT_SHAPE)
    for number, line in lines:
        try:
            x = parse_line(line, number)(x)
        except ValueError as e:
            if str(e).startswith(f"line {number} "):
                raise
            raise ValueError(f"line {number} ({line.strip()}) cannot follow an output of shape "
                             f"(None, {', '.join(map(str, x.shape))}): {e}") from None
    stack = [parse_line(line, number) for number, line in lines]
    if dropout:
        stack.insert(len(stack) - 1, L.Dropout(dropout, name="dropout_hp"))
    model = models.Sequential([L.Input(INPUT_SHAPE, name="input")] + stack, name="studio")
    if model.output_shape != (CLASSES,):
        raise ValueError(f"the last layer must give {CLASSES} class scores, e.g. Dense({CLASSES}); this stack ends "
                         f"with output (None, {', '.join(map(str, model.output_shape))})")
    if not any(layer.weights for layer in model.layers):
        raise ValueError("the stack has no layer with weights, so there is nothing to train")
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
