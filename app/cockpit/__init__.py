"""The planner's cockpit: the agency's start page with what needs doing today."""
