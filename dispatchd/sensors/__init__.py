"""Sensors and their alarms: readings pass the rule engine, alarms live raised → acknowledged → cleared.

rules.py    the rule logic on one reading, without a database (breach, clear, step)
engine.py   process_readings(): a batch of stored readings through the rules (a chain of small handlers)
alarms.py   the alarm lifecycle (raise, acknowledge, clear) with its events and auto-created cases
offline.py  check_offline(): sensors silent for too long raise an offline alarm
ranges.py   check_readings(): physically impossible values are refused before anything is stored
defaults.py default rules for the seven sensor types
payload.py  MQTT payloads into reading items;  mqtt.py  the subscriber and run_mqtt()
simulate.py the demo's sensor feed (run_sensor_feed);  admin.py  admin pages of the rules
"""
