import NN
import Tensors
