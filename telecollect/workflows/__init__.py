"""Use cases that cross domains: one function per user action, its steps in a fixed, readable order.

Routes, the API, the CLI and jobs call these (or read-only queries); the
domain services they call never import one another. A workflow adds and
flushes; whoever called it (a request, a command, a job) commits once.

    queue_work   claim (claim → pre-call notice), record an outcome (attempt → lifecycle → promise credit →
                 autodebit prompt), register a REHAB plan (plan → lifecycle)
    imports      participant import (arrears → close settled work → district totals),
                 payment import (allocate → promises → plans → reactivation → settlement)
    settlement   promises and installments that fell due (settle → requeue)
    retention    personal data past its period (each domain erases its own → one audit event)
"""
