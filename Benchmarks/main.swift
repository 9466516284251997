import Tape
print("benchmarks: coming soon")
