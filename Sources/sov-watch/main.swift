import SOVCLI

WatchCommand.main()
