"""Baseline TEACh models, written only against :class:`agent.teach_model.TeachModel` so that they run under TEACh's
own ``teach_inference`` as well as under ``python -m agent.run_teach --model ...``."""
