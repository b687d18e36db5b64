"""Tasks: a dataset, a prompt and a reward as one loadable unit, with exports to TRL, verl and OpenRLHF.

* :mod:`~rewardkit.tasks.task` - :class:`Task`, :func:`load_task`, the task and generator registries;
* :mod:`~rewardkit.tasks.builtin` - the registered tasks ``math``, ``code``, ``sql``, ``structured``, ``toolcall``;
* :mod:`~rewardkit.tasks.export` - the TRL, verl and OpenRLHF data formats.

Example:
    >>> task = load_task("math")
    >>> task.rows[0]
    {'question': 'What is 50 - 98?', 'answer': '-48'}
    >>> task.score(["<think>50 - 98</think><answer>-48</answer>", "-48"], task.rows[:1] * 2).total.tolist()
    [1.2, 1.0]
"""

from .export import to_openrlhf, to_trl, to_verl, verl_rows
from .task import GENERATORS, TASKS, Task, available_tasks, load_task, read_rows, register_generator, register_task

__all__ = ["GENERATORS", "TASKS", "Task", "available_tasks", "load_task", "read_rows", "register_generator",
           "register_task", "to_openrlhf", "to_trl", "to_verl", "verl_rows"]
