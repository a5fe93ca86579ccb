"""Which files a batch stylizes and where each result goes: the engine's planning
(styler.batch), under the names the CLI has always imported."""

from styler.batch import IMAGE_EXTENSIONS, InputNotFound, Job, Plan, make_plan, output_name

__all__ = ["IMAGE_EXTENSIONS", "InputNotFound", "Job", "Plan", "make_plan", "output_name"]
