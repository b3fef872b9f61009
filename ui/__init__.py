"""The Qt desk application: main window, widgets, background workers, demo.

Only this package imports Qt; ``checkin`` and ``drivers`` stay Qt-free.
"""
