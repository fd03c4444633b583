"""The article's network as written: the reference our engine is timed against.

Source: "How to Create a Python-Based Neural Network From Scratch" (turing.com knowledge base),
which follows the well-known Kaggle notebook on Iris. Recreated here function by function:
per-sample training with ``np.matrix``, weights drawn from U[-1, 1] with shape
(nodes[i+1], nodes[i] + 1) whose first column multiplies a bias input of 1 that is prepended to
every layer's input, sigmoid everywhere, and backpropagation that updates a layer's weights
*before* propagating the error through them (kept: that is the algorithm as written).

Three bugs of the published code are fixed, nothing else:

1. ``ef Accuracy(...)`` is a syntax error; it is ``def Accuracy(...)`` here.
2. ``BackPropagation`` reads the learning rate ``lr`` as a global; it is passed explicitly
   (``Train`` -> ``BackPropagation``).
3. ``Predict`` uses ``outputFinal`` without defining it; it is now the last layer's activation.

The only other change is that ``NeuralNetwork`` takes a ``verbose`` flag (default True, the
article's behaviour) so the benchmark can time it without printing. Run this file to reproduce
the article's log on ``data/Iris.csv``. It is excluded from ruff (see pyproject.toml) because
it keeps the article's names and style.
"""

import os
import sys

import numpy as np
import pandas as pd


def NeuralNetwork(X_train, Y_train, X_val=None, Y_val=None, epochs=10, nodes=[], lr=0.15,
                  verbose=True):
    hidden_layers = len(nodes) - 1
    weights = InitializeWeights(nodes)

    for epoch in range(1, epochs + 1):
        weights = Train(X_train, Y_train, lr, weights)

        if verbose and epoch % 20 == 0:
            print("Epoch {}".format(epoch))
            print("Training Accuracy:{}".format(Accuracy(X_train, Y_train, weights)))
            if X_val is not None and X_val.any():
                print("Validation Accuracy:{}".format(Accuracy(X_val, Y_val, weights)))

    return weights


def InitializeWeights(nodes):
    """Initialize weights with random values in [-1, 1] (including bias)"""
    layers, weights = len(nodes), []

    for i in range(1, layers):
        w = [[np.random.uniform(-1, 1) for k in range(nodes[i - 1] + 1)]
             for j in range(nodes[i])]
        weights.append(np.matrix(w))

    return weights


def ForwardPropagation(x, weights, layers):
    activations, layer_input = [x], x
    for j in range(layers):
        activation = Sigmoid(np.dot(layer_input, weights[j].T))
        activations.append(activation)
        layer_input = np.append(1, activation)  # Augment with bias

    return activations


def BackPropagation(y, activations, weights, layers, lr):  # fix 2: lr is a parameter
    outputFinal = activations[-1]
    error = np.matrix(y - outputFinal)  # Error at output

    for j in range(layers, 0, -1):
        currActivation = activations[j]

        if j > 1:
            # Augment previous activation
            prevActivation = np.append(1, activations[j - 1])
        else:
            # First hidden layer, prevActivation is input (already augmented in Train)
            prevActivation = activations[0]

        delta = np.multiply(error, SigmoidDerivative(currActivation))
        weights[j - 1] += lr * np.multiply(delta.T, prevActivation)

        w = np.delete(weights[j - 1], [0], axis=1)  # Remove bias from weights
        error = np.dot(delta, w)  # Calculate error for current layer

    return weights


def Train(X, Y, lr, weights):
    layers = len(weights)
    for i in range(len(X)):
        x, y = X[i], Y[i]
        x = np.matrix(np.append(1, x))  # Augment feature vector

        activations = ForwardPropagation(x, weights, layers)
        weights = BackPropagation(y, activations, weights, layers, lr)

    return weights


def Sigmoid(x):
    return 1 / (1 + np.exp(-x))


def SigmoidDerivative(x):
    return np.multiply(x, 1 - x)


def Predict(item, weights):
    layers = len(weights)
    item = np.append(1, item)  # Augment feature vector

    # Forward Propagation
    activations = ForwardPropagation(item, weights, layers)

    outputFinal = activations[-1].A1  # fix 3: defined before use
    index = FindMaxActivation(outputFinal)

    # Initialize prediction vector to zeros
    y = [0 for i in range(len(outputFinal))]
    y[index] = 1  # Set guessed class to 1

    return y  # Return prediction vector


def FindMaxActivation(output):
    """Find max activation in output"""
    m, index = output[0], 0
    for i in range(1, len(output)):
        if output[i] > m:
            m, index = output[i], i

    return index


def Accuracy(X, Y, weights):  # fix 1: was "ef Accuracy"
    """Run set through network, find overall accuracy"""
    correct = 0

    for i in range(len(X)):
        x, y = X[i], list(Y[i])
        guess = Predict(x, weights)

        if y == guess:
            # Guessed correctly
            correct += 1

    return correct / len(X)


def main(seed=0):
    """The article's script: shuffle, one-hot, split 15% test then 10% validation, train."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import OneHotEncoder

    np.random.seed(seed)
    here = os.path.dirname(os.path.abspath(__file__))
    iris = pd.read_csv(os.path.join(here, "..", "data", "Iris.csv"))
    iris = iris.sample(frac=1, random_state=seed).reset_index(drop=True)  # Shuffle

    X = iris[["SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm"]]
    X = np.array(X)

    one_hot_encoder = OneHotEncoder(sparse_output=False)
    Y = iris.Species
    Y = one_hot_encoder.fit_transform(np.array(Y).reshape(-1, 1))

    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.15,
                                                        random_state=seed)
    X_train, X_val, Y_train, Y_val = train_test_split(X_train, Y_train, test_size=0.1,
                                                      random_state=seed)

    f = len(X[0])  # Number of features
    o = len(Y[0])  # Number of outputs / classes

    layers = [f, 5, 10, o]  # Number of nodes in layers
    lr, epochs = 0.15, 100

    weights = NeuralNetwork(X_train, Y_train, X_val, Y_val, epochs=epochs, nodes=layers, lr=lr)

    print("Testing Accuracy: {}".format(Accuracy(X_test, Y_test, weights)))
    return weights


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
