import Tape
