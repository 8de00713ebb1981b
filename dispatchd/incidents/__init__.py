"""Emergency war-room mode (平战结合): declare an incident, act on it, stand down, report.

`command` declares and stands down; `nearby` finds what lies inside the rings; `dispatch` sends the
nearest N workers; `broadcast` messages every worker inside a ring; `timeline` records every action
(database, hub topic `incident.<id>`, audit log); `arrivals` and `acks` watch the responders; `report`
sums it up after stand-down.
"""
