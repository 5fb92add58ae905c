"""The integration tests' fixtures, for the sanitizer runs."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "weir_integration_conftest",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration", "conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
deploy = _mod.deploy
