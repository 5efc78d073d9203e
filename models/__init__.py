"""Plain contract types that cross Temporal boundaries: inputs, results, signals, query answers.

Workflow code imports only these; the tables live with the read model (`readmodel.tables`).
"""
