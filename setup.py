from setuptools import setup, find_packages

setup(
    name="firefly-s",
    version="0.1.0",
    description="FireFly-S: dual-side sparse SNN accelerator (training, golden model, Migen/LiteX SoC, firmware)",
    packages=find_packages(include=["sw", "sw.*", "soc", "soc.*", "firmware", "firmware.*"]),
    python_requires=">=3.10",
    package_data={"firmware": ["*.c", "*.h", "Makefile", "*.ld"]},
)
