"""One parameterised task family: a small programming task and everything needed to vary it."""


class Family:
    """The fields, all given by keyword. In `docs` and `bodies` (string.Template text), $a, $b, $c are the
    argument names and $k, $x, ... the family's parameters.

    name            the family's identity: its hash puts it in the train or the held-out split
    topic           what it exercises ("strings", "lists", ...)
    function_names  the exercise's function is called one of these
    arg_names       alternative parameter lists, written as in a signature: ["s, ch", "text, letter"]
    arg_types       the parameters' type hints, in order; `returns` is the return type's
    docs            docstring wordings, one chosen per exercise
    bodies          solution bodies, written as a person would, in different styles
    reference       plain Python computing the tests' expected values, so a wrong body fails its own test
    inputs          rng (exercises.Inputs) -> a tuple of arguments for one test call
    params          rng -> the family's parameters ({} when it has none)
    """

    def __init__(self, *, name, topic, function_names, arg_names, arg_types, returns, docs, bodies, reference,
                 inputs, params=None):
        self.name, self.topic = name, topic
        self.function_names = function_names
        self.arg_names = [[a.strip() for a in names.split(",")] for names in arg_names]
        self.arg_types, self.returns = arg_types, returns
        self.docs, self.bodies = docs, bodies
        self.reference, self.inputs = reference, inputs
        self.params = params or (lambda rng: {})
