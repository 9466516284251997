import Tape
print("demos: coming soon")
