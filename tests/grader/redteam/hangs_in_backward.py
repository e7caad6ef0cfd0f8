# base: solutions
# An honest submission except that Linear.backward never returns: it loses those tests only.
def _forever(self, grad_out):
    while True:
        pass


Linear.backward = _forever
