"""The contact policy: when, how often and whom we may contact, on every channel.

`rules` decides (calling days and hours in the participant's zone, national
holidays, cuti bersama and the branch's own days, caps per family, usable
numbers); `optouts` is the one writer of who asked not to be contacted. Every
channel asks here: claims, call buttons, the SMS dispatcher, reminders.
"""
