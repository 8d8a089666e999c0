from repost.cli import run

run()
