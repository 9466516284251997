import Layers
import Tape
