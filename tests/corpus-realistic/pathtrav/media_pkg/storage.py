import os

MEDIA_ROOT = "/srv/app/media"


class MediaStorage:
    def __init__(self, root=MEDIA_ROOT):
        self.root = root

    def open(self, relative):
        return open(os.path.join(self.root, relative), "rb")
