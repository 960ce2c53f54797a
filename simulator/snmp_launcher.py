"""Start snmpsim's command responder after pre-importing what it loads lazily (see lab-recipe.md §8).

Run as a script (not through the simulator package) so nothing else is imported. As root, snmpsim
drops privileges to nobody after binding; the interpreter's stdlib may then be unreadable, so the
dbm and codec modules it needs later are imported here first.
"""
import dbm  # noqa: F401
import dbm.dumb  # noqa: F401
import encodings.ascii  # noqa: F401
import encodings.latin_1  # noqa: F401
import encodings.utf_8  # noqa: F401
import os
import sys
import threading
import time


def _exit_with_parent(parent: int) -> None:
    """snmpsim never stops on its own: leave when the process that started us is gone."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    from snmpsim.commands.responder import main as responder_main
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    sys.argv = ["snmpsim-command-responder", *sys.argv[1:]]
    responder_main()


if __name__ == "__main__":
    main()
