"""GLCIC: Iizuka, Simo-Serra, Ishikawa, "Globally and Locally Consistent Image Completion" (SIGGRAPH 2017).

* :mod:`.completion`     the completion network C (dilated convolutions, 6.07 M parameters at full width)
* :mod:`.discriminators` the global + local context discriminators D
* :mod:`.phases`         the three training phases: ``Phase1`` (MSE), ``Phase2`` (D alone), ``Phase3`` (joint)
* :mod:`.inference`      ``inpaint(image, mask)`` at any size, shipped weights, post-processing
* :mod:`.interpolation`  network interpolation between the MSE and the GAN network (ESRGAN; not in the paper)
"""
