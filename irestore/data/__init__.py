"""Degradations and training data.

One module per degradation (``resize``: MATLAB bicubic; ``noise``: Gaussian; ``camera_noise``:
unprocessing; ``jpeg``; ``blur``; ``rain``), ``degradations`` maps a task name to one of them, and
``patches`` turns folders of clean images into reproducible training pairs. Nothing is imported
here so that evaluation code can use ``irestore.data.resize`` without pulling in torch.
"""
