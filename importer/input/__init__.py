"""Files in, one frame of cells out: text files and workbooks, encodings, Excel's limits, pipes, the table found where it is."""
