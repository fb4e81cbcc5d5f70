"""`govit demo`: seed a running suite and walk projects through their lives, printing each step.

Agencies, each jurisdiction's expert pool and one project per jurisdiction are created with names
of this run (so the demo can be run again), then each project goes from declaration through
review, approval, procurement, construction and acceptance to O&M funds, with funding's gates and
their articles shown on the way. Every step is taken with a token of that jurisdiction's people
(its authority, finance, experts and the agency), as the suite scopes them. Time is moved through
the suite's clock file (GOVIT_CLOCK_FILE, which `govit up` sets in development), never by waiting.

driver.py calls the suite (tokens, requests, the clock, expert panels); walk.py is one project's
life step by step, acceptance.py its acceptance; run.py picks the start and walks them all.
"""

from govit.demo.driver import Demo, DemoError
from govit.demo.run import free_start, run_demo

__all__ = ["Demo", "DemoError", "free_start", "run_demo"]
