import HDF5
import NN
