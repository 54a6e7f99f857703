"""The probe: run a model file in the user's interpreter and record the real tensor shapes.

``runner.run_probe`` (cheap to import, no torch) starts ``agent.py`` in a subprocess;
``report`` turns its result into the JSON form of ``shapelens check``; ``cli`` is
``shapelens probe``.
"""
