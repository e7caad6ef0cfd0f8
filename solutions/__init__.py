"""The reference implementation: the same modules and public names as exercises/, complete.

Read it to compare with your own solution after you have passed an exercise (`make compare EX=...`
shows the differences in numbers without showing this code).
"""
