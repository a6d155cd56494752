"""The parameterised task families behind the offline CodeExercises (exercises.py) and the ordinary-code
control (code.py): one module per topic, each family a `Family` (family.py describes its fields)."""
from synthdata.families import (arithmetic, conditionals, dicts, lists, loops, recursion, searching, simulation,
                                sorting, strings)

# exercises.py goes round-robin over this list and code.py weights a fixed shuffle of it, so its order is part
# of what a seed generates: new families go at the end.
FAMILIES = (strings.FAMILIES + lists.FAMILIES + dicts.FAMILIES + arithmetic.FAMILIES + recursion.FAMILIES
            + searching.FAMILIES + sorting.FAMILIES + simulation.FAMILIES + conditionals.FAMILIES
            + loops.FAMILIES + lists.GRIDS + strings.WORD_PUZZLES)
