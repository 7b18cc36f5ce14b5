"""Run ``celery`` with some module constants changed first (test workers only).

``TEST_WORKER_PATCHES`` is a JSON object of ``"package.module.NAME": value``;
``TEST_WORKER_IMPORTS`` names modules of test-only tasks to import.
The pool processes fork from this one and inherit the changed values.
"""

import importlib
import json
import os
import sys

import django


def main() -> None:
    patches = json.loads(os.environ.get("TEST_WORKER_PATCHES") or "{}")
    # Modules of test-only tasks (``tests.poison_tasks``), registered before the worker starts.
    imports = [name for name in os.environ.get("TEST_WORKER_IMPORTS", "").split(",") if name]
    if patches or imports:
        django.setup()
        for module_name in imports:
            importlib.import_module(module_name)
        for dotted, value in patches.items():
            module_name, name = dotted.rsplit(".", 1)
            module = importlib.import_module(module_name)
            if not hasattr(module, name):
                raise AttributeError(f"{module_name} has no {name} to patch")
            setattr(module, name, value)
    from celery.__main__ import main as celery_main

    sys.argv[0] = "celery"
    celery_main()


if __name__ == "__main__":
    main()
